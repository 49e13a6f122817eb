"""Typed settings from INTAKE_* environment variables and a .env file, built by a factory."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from channels.settings import ImapMailbox, ImapSettings, SmtpSettings, TwilioSettings

__all__ = [
    "ImapMailbox",
    "ImapSettings",
    "Settings",
    "SmtpSettings",
    "TwilioSettings",
    "WebSettings",
    "get_settings",
]


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
