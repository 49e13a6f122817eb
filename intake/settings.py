"""Typed settings from INTAKE_* environment variables and a .env file, built by a factory."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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


class TwilioSettings(BaseModel):
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None
    messaging_service_sid: str | None = None
    api_base_url: str = "https://api.twilio.com"
    timeout_seconds: float = 15.0  # per REST call; a timeout is retried like a 5xx
    # Only for local development: accept webhooks without a valid X-Twilio-Signature.
    skip_signature_validation: bool = False


class WebSettings(BaseModel):
    """The public contact form and the staff workspace."""

    max_attachment_bytes: int = 10 * 1024 * 1024  # per file
    max_attachments: int = 5
    max_form_bytes: int = 25 * 1024 * 1024  # a whole form post; larger ones are refused unread
    submissions_per_minute: int = 10  # posts per client address; more are refused with 429
    submissions_per_hour: int = 30


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_",
        env_file=".env",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    environment: str = "development"  # development / test / production
    database_url: str = "sqlite:///var/intake.db"
    redis_url: str | None = None
    queue_name: str = "intake"
    policy: str = "ombudsman-2024"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr("development-only-secret-change-me")
    model_dir: Path = Path("var/models")
    outbox_dir: Path = Path("var/outbox")  # acknowledgements land here when a channel has no provider set
    homes: int = 1000  # number of homes, for the TSM CH01 rate
    nation: str = "england"  # england / wales / scotland / northern_ireland: bank holidays
    landlord_addresses: list[str] = Field(default_factory=list)  # our own addresses: never acknowledged
    follow_up_window_days: int = 14  # an SMS within this window of an open case joins it
    max_acknowledgements_per_sender_per_day: int = 10
    sms_help_text: str = (
        "This number is for messages to your landlord. Text your question or repair and we will reply. "
        "Emergencies: call our repairs line. Reply STOP to stop texts."
    )
    max_body_bytes: int = 2 * 1024 * 1024  # API bodies over this are refused with 413
    stuck_after_seconds: int = 300  # the sweep re-queues items unfinished for this long
    sweep_interval_seconds: int = 60

    imap: ImapSettings = Field(default_factory=ImapSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)

    @model_validator(mode="after")
    def _refuse_placeholder_secret_outside_development(self) -> Settings:
        if self.environment == "production" and "change-me" in self.secret_key.get_secret_value():
            raise ValueError("INTAKE_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)


@cache
def get_settings() -> Settings:
    """The process's settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
