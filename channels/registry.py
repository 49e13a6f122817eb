"""The explicit tables of channel adapters: `resolve_inbound` and `resolve_sender` fail loudly on an
unknown name (like rq's serializers table).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from channels.base import InboundAdapter, OutboundAdapter
from channels.errors import ConfigurationError
from channels.outbox import OutboxSender
from channels.settings import ChannelSettings

# name -> "module:factory" of an inbound adapter that needs nothing to be built. The items API and
# the transcripts API are built per calling system (`ItemsApiAdapter(client_name=…)`).
INBOUND: dict[str, str] = {
    "twilio_sms": "channels.sms:TwilioSmsAdapter",
    "twilio_transcription": "channels.transcripts:TwilioTranscriptionAdapter",
}

# channel -> (module:factory used when configured, predicate "is this channel configured?")
SENDERS: dict[str, tuple[str, Callable[[ChannelSettings], bool]]] = {
    "email": ("channels.email_smtp:SmtpSender.from_settings", lambda s: bool(s.smtp.host)),
    "sms": ("channels.sms_twilio:TwilioSmsSender.from_settings", lambda s: bool(s.twilio.account_sid)),
}


def resolve_inbound(name: str) -> InboundAdapter:
    """The inbound adapter called `name`."""
    if name not in INBOUND:
        raise ConfigurationError(f"no inbound adapter called {name!r}; known: {sorted(INBOUND)}")
    factory = _load(INBOUND[name])
    return cast(InboundAdapter, factory())


def resolve_sender(channel: str, settings: ChannelSettings) -> OutboundAdapter:
    """The sender for an outbound channel; the file outbox when the channel is not configured."""
    if channel not in SENDERS:
        raise ConfigurationError(
            f"no acknowledgement sender for channel {channel!r}; known: {sorted(SENDERS)}"
        )
    target, is_configured = SENDERS[channel]
    if not is_configured(settings):
        return OutboxSender(settings.outbox_dir, channel)
    return cast(OutboundAdapter, _load(target)(settings))


def _load(target: str) -> Callable[..., object]:
    module_name, _, attribute_path = target.partition(":")
    found: object = importlib.import_module(module_name)
    for part in attribute_path.split("."):
        found = getattr(found, part)
    assert callable(found), target
    return found
