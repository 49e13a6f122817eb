"""The explicit table of outbound senders, and `resolve_sender`, which fails loudly on a bad name."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from channels.base import AcknowledgementSender
from channels.outbox import OutboxSender
from intake.errors import ConfigurationError
from intake.settings import Settings

# channel -> (module:factory used when configured, predicate "is this channel configured?")
SENDERS: dict[str, tuple[str, Callable[[Settings], bool]]] = {
    "email": ("channels.email_smtp:SmtpSender.from_settings", lambda s: bool(s.smtp.host)),
    "sms": ("channels.sms_twilio:TwilioSmsSender.from_settings", lambda s: bool(s.twilio.account_sid)),
}


def resolve_sender(channel: str, settings: Settings) -> AcknowledgementSender:
    """The sender for an outbound channel; the file outbox when the channel is not configured."""
    if channel not in SENDERS:
        raise ConfigurationError(
            f"no acknowledgement sender for channel {channel!r}; known: {sorted(SENDERS)}"
        )
    target, is_configured = SENDERS[channel]
    if not is_configured(settings):
        return OutboxSender(settings.outbox_dir, channel)
    module_name, _, factory_path = target.partition(":")
    factory: object = importlib.import_module(module_name)
    for part in factory_path.split("."):
        factory = getattr(factory, part)
    return factory(settings)  # type: ignore[operator,no-any-return]
