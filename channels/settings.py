"""Each channel's own settings (IMAP, SMTP, email sign-in and mailboxes, Twilio), and the shape of the settings channels are handed.

The service's one `Settings` object (intake/settings.py) nests these models; channels never read it
from the environment themselves, they are given it. `ChannelSettings` is the part of it they use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

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


# --- email sign-in: OAuth2 (Microsoft 365) and several mailboxes (INTAKE_EMAIL_*) -------------
MICROSOFT_365_SCOPE = "https://outlook.office365.com/.default"
MailAuth = Literal["password", "oauth2"]


class OAuth2AppSettings(BaseModel):
    """An Entra ID app registration signing in with the client-credentials grant."""

    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    certificate_path: Path | None = None  # instead of a secret: PEM with the private key and the certificate
    # Default: https://login.microsoftonline.com/<tenant_id>/oauth2/v2.0/token
    token_endpoint: str | None = None
    scope: str = MICROSOFT_365_SCOPE


class MailboxSettings(BaseModel):
    """One further mailbox (INTAKE_EMAIL_MAILBOXES), with its own account and sign-in."""

    user: str  # the account; with OAuth2, the (shared) mailbox's address
    auth: MailAuth = "password"
    password: SecretStr | None = None
    oauth2: OAuth2AppSettings | None = None  # its own app registration; default: INTAKE_EMAIL_*'s
    host: str | None = None  # default: INTAKE_IMAP_HOST, or outlook.office365.com with OAuth2
    port: int | None = None
    ssl: bool | None = None
    folder: str = "INBOX"
    hint: str | None = None
    mark_mode: str | None = None
    processed_folder: str | None = None


class EmailSettings(BaseModel):
    """How the IMAP and SMTP accounts sign in, the default app registration, further mailboxes."""

    imap_auth: MailAuth = "password"  # the INTAKE_IMAP_* mailbox and its extra folders
    smtp_auth: MailAuth = "password"  # the INTAKE_SMTP_* account (INTAKE_SMTP_USER: the mailbox sent as)
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    certificate_path: Path | None = None
    token_endpoint: str | None = None
    scope: str = MICROSOFT_365_SCOPE
    mailboxes: list[MailboxSettings] = Field(default_factory=list)

    @property
    def app(self) -> OAuth2AppSettings:
        return OAuth2AppSettings(
            tenant_id=self.tenant_id,
            client_id=self.client_id,
            client_secret=self.client_secret,
            certificate_path=self.certificate_path,
            token_endpoint=self.token_endpoint,
            scope=self.scope,
        )


DEFAULT_CONCURRENT_SENDS = 32


class TwilioSettings(BaseModel):
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None
    messaging_service_sid: str | None = None
    api_base_url: str = "https://api.twilio.com"
    timeout_seconds: float = 15.0  # per REST call; a timeout is retried like a 5xx
    # Texts one worker process has in flight to Twilio at once. Each is a round trip over the
    # internet, and a worker waits for its batch's (up to 32) before the next batch: at 150 texts
    # a second with Twilio answering in 150 ms, 16 at once left acknowledgements 3-6 s behind and
    # 32 kept them within 0.6 s (docs/benchmarks.md). Twilio refuses an account more than 100 at
    # once by default (429, retried after a back-off): keep worker processes x this under it.
    concurrent_sends: int = Field(default=DEFAULT_CONCURRENT_SENDS, ge=1, le=100)
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
    def email(self) -> EmailSettings: ...
    @property
    def twilio(self) -> TwilioSettings: ...
