"""Each channel's own settings (IMAP, SMTP, Twilio), and the shape of the settings channels are handed.

The service's one `Settings` object (intake/settings.py) nests these models; channels never read it
from the environment themselves, they are given it. `ChannelSettings` is the part of it they use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import AliasChoices, BaseModel, Field, SecretStr


class ImapMailbox(BaseModel):
    folder: str = "INBOX"
    hint: str | None = None  # e.g. "repairs": a default hint for items from this mailbox
    # Another account on the same server (e.g. repairs@ beside complaints@); None: the main account.
    user: str | None = None
    password: SecretStr | None = None


class ImapSettings(BaseModel):
    host: str | None = None
    port: int = 993
    user: str | None = None
    password: SecretStr | None = None
    folder: str = "INBOX"
    hint: str | None = None  # default hint for items from the main mailbox
    ssl: bool = True
    # "seen" sets \Seen after commit; "move" moves to processed_folder after commit
    mark_mode: str = "seen"
    processed_folder: str = "Processed"
    poll_interval_seconds: int = 60
    max_attachment_bytes: int = 20 * 1024 * 1024
    extra_mailboxes: list[ImapMailbox] = Field(default_factory=list)


class SmtpSettings(BaseModel):
    host: str | None = None
    port: int = 587
    user: str | None = None
    password: SecretStr | None = None
    from_address: str = Field(
        default="contact@landlord.example", validation_alias=AliasChoices("from_address", "from")
    )
    starttls: bool = True
    timeout_seconds: float = 20.0


class TwilioSettings(BaseModel):
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None
    messaging_service_sid: str | None = None
    api_base_url: str = "https://api.twilio.com"
    timeout_seconds: float = 15.0  # per REST call; a timeout is retried like a 5xx
    # Only for local development: accept webhooks without a valid X-Twilio-Signature.
    skip_signature_validation: bool = False


class ChannelSettings(Protocol):
    """What channels read from the service's settings (intake.settings.Settings has all of it)."""

    @property
    def environment(self) -> str: ...
    @property
    def public_base_url(self) -> str: ...
    @property
    def outbox_dir(self) -> Path: ...
    @property
    def landlord_addresses(self) -> list[str]: ...
    @property
    def imap(self) -> ImapSettings: ...
    @property
    def smtp(self) -> SmtpSettings: ...
    @property
    def twilio(self) -> TwilioSettings: ...
