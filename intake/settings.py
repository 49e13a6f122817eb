"""Typed settings from INTAKE_* environment variables and a .env file, built by a factory."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import phonenumbers
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from channels.settings import (
    EmailSettings,
    ImapMailbox,
    ImapSettings,
    MailboxSettings,
    OAuth2AppSettings,
    SmtpSettings,
    TwilioSettings,
)


class Environment(StrEnum):
    """Where the service runs. Read case-insensitively; any other value is refused at start-up, so a
    typo such as `prod` can never switch the production checks off."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"

    @classmethod
    def _missing_(cls, value: object) -> Environment | None:
        if isinstance(value, str):
            for member in cls:
                if member.value == value.strip().lower():
                    return member
        return None


# A production secret key must be long and varied: it signs sessions and keys the rate-limit hashes.
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_DISTINCT_CHARACTERS = 12
PLACEHOLDER_SECRET_MARKERS = ("change-me", "changeme", "secret", "password", "example", "development")


def secret_key_weakness(key: str) -> str | None:
    """Why `key` is too weak for production, or None. Generate one with `python -m secrets`-style
    `openssl rand -base64 48`."""
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"it has {len(key)} characters; at least {MIN_SECRET_KEY_LENGTH} are needed"
    lowered = key.lower()
    marker = next((m for m in PLACEHOLDER_SECRET_MARKERS if m in lowered), None)
    if marker:
        return f"it contains the placeholder word {marker!r}"
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT_CHARACTERS:
        return f"it uses fewer than {MIN_SECRET_KEY_DISTINCT_CHARACTERS} different characters"
    return None


__all__ = [
    "Environment",
    "EmailSettings",
    "ImapMailbox",
    "MailboxSettings",
    "OAuth2AppSettings",
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


class RetentionRule(BaseModel):
    """How long one kind of case is kept before its personal data is replaced by the erasure marker.

    A case matches when its root's type is in `types` ("untriaged" matches items stored but never
    triaged: STOP/HELP texts, bounces) or its queue is in `queues`. The clock starts at closure or at
    receipt (`counted_from`); a case counted from closure is kept for as long as it is open.
    """

    name: str
    types: list[str] = Field(default_factory=list)
    queues: list[str] = Field(default_factory=list)
    counted_from: str = "closed"  # closed / received
    years: int = 0
    days: int = 0


def _default_retention() -> list[RetentionRule]:
    # A common schedule for social landlords (NHF retention guidance): complaint and repair records six
    # years after closure (the Limitation Act 1980 period), enquiries and compliments two years, junk 30 days.
    # The first rule a case matches applies.
    return [
        RetentionRule(name="junk", queues=["not_for_triage"], types=["untriaged"], counted_from="received", days=30),
        RetentionRule(name="complaints", types=["complaint"], counted_from="closed", years=6),
        RetentionRule(name="service requests", types=["service_request"], counted_from="closed", years=6),
        RetentionRule(
            name="enquiries and compliments", types=["enquiry", "compliment", "suggestion"],
            counted_from="received", years=2,
        ),
    ]


class PrivacySettings(BaseModel):
    """Residents' data rights (intake/privacy, docs/privacy.md)."""

    marker: str = "[erased]"  # what replaces personal data on erasure and at the end of retention
    retention: list[RetentionRule] = Field(default_factory=_default_retention)
    retention_in_sweep: bool = True  # the worker's sweep applies the schedule once a day
    access_log_years: int = 2  # how long the access trail itself is kept
    request_log_years: int = 6  # how long the record of a data-rights request is kept


def _default_home() -> Path:
    """The checkout the service runs from (where `make run` put var/), else the working directory."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


class LandlordSettings(BaseModel):
    """The landlord's own name and contact details, used in every letter and page.

    Unset fields keep the policy profile's (which ships with the published policy's details or
    clearly invented examples). INTAKE_LANDLORD_NAME, INTAKE_LANDLORD_PHONE,
    INTAKE_LANDLORD_EMERGENCY_REPAIRS_PHONE, INTAKE_LANDLORD_EMAIL, INTAKE_LANDLORD_WEBSITE,
    INTAKE_LANDLORD_ADDRESS.
    """

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = None
    emergency_repairs_phone: str | None = None
    email: str | None = None
    website: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)

    @field_validator("phone", "emergency_repairs_phone")
    @classmethod
    def _a_uk_phone_number(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            parsed = phonenumbers.parse(value, "GB")
        except phonenumbers.NumberParseException as error:
            raise ValueError(f"{value!r} is not a phone number: {error}") from None
        if not phonenumbers.is_possible_number(parsed):
            raise ValueError(f"{value!r} is not a possible UK phone number")
        # Residents read it: national format ("0300 123 4567"), as printed on letters.
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)

    @field_validator("email")
    @classmethod
    def _an_email_address(cls, value: str | None) -> str | None:
        if not value:
            return None
        local, at, domain = value.strip().rpartition("@")
        if not at or not local or "." not in domain or any(ch.isspace() for ch in value.strip()):
            raise ValueError(f"{value!r} is not an email address")
        return value.strip()


class OidcSettings(BaseModel):
    """Optional single sign-on with OpenID Connect (Microsoft Entra ID, Google, Okta, Keycloak...).

    On when issuer and client id are set: INTAKE_OIDC_ISSUER (Entra ID:
    https://login.microsoftonline.com/<tenant id>/v2.0), INTAKE_OIDC_CLIENT_ID, INTAKE_OIDC_CLIENT_SECRET.
    Local passwords keep working; the provider's email must be on an existing staff account.
    """

    issuer: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    button_text: str = Field(default="Sign in with your organisation account", max_length=100)

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_",
        env_file=".env",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    environment: Environment = Environment.DEVELOPMENT
    # Relative paths below (model and outbox folders, a SQLite file) are relative to this folder, so the
    # server finds the same files wherever it was started from.
    home: Path = Field(default_factory=_default_home)
    database_url: str = "sqlite:///var/intake.db"
    redis_url: str | None = None
    queue_name: str = "intake"
    # Where jobs run. auto: rq when redis_url is set, else the database queue drained by the worker
    # process `intake serve` starts; inline: in the calling process at once (tests, scripts).
    jobs: Literal["auto", "rq", "database", "inline"] = "auto"
    worker_batch_size: int = 32  # items a worker classifies together (classify_many)
    worker_poll_seconds: float = 0.2  # database queue: how often an idle worker looks for work
    # rq: a job queued less than this long ago, with less than a batch waiting behind it, waits until
    # it is this old before it looks for the rest of its batch. At 150 texts a second two workers
    # without it took them about ten at a time and every process together cost about 30 % more CPU
    # (thirteenth session); at 0.4 s every process together cost 12-17 % less than at 0.2 s in
    # three alternated pairs (docs/benchmarks.md, sixteenth session). Every item waits at most this
    # long more: acknowledgements went within 0.6 s at p99.
    worker_gather_seconds: float = Field(default=0.4, ge=0, le=5)
    # Worker processes run at this much lower CPU priority (Unix nice, 0-19): where the API and the
    # workers share cores, a burst of webhooks is answered first and the backlog is worked through in
    # the idle time. Workers still take every idle cycle, so throughput below saturation is unchanged.
    worker_niceness: int = Field(default=10, ge=0, le=19)
    # A worker process past this resident size (MB) finishes its job and is replaced by a fresh fork
    # (0: never). spaCy remembers every new word it reads, so a worker grows by about 3 MB per 1,000
    # messages full of references, phone numbers and names (docs/scaling.md); a forked worker is at
    # about 230 MB after its first batch. 350 is the RSS target for a worker with the model.
    worker_max_resident_mb: int = Field(default=350, ge=0)
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
    # Types of case a triage officer may close (managers and admins may close any): a JSON list.
    triage_may_close: list[str] = Field(default_factory=lambda: ["compliment", "suggestion"])
    sms_help_text: str = (
        "This number is for messages to your landlord. Text your question or repair and we will reply. "
        "Emergencies: call our repairs line. Reply STOP to stop texts."
    )
    max_body_bytes: int = 2 * 1024 * 1024  # API bodies over this are refused with 413
    stuck_after_seconds: int = 300  # the sweep re-queues items unfinished for this long
    sweep_interval_seconds: int = 60
    # How often the sweep also refreshes the reports' daily facts (a report read refreshes them itself).
    report_facts_refresh_seconds: int = 600

    imap: ImapSettings = Field(default_factory=ImapSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    email: EmailSettings = Field(default_factory=EmailSettings)  # INTAKE_EMAIL_*: OAuth2, more mailboxes
    # Addresses (or networks, e.g. 10.0.0.0/8) of the reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed. Empty: the connecting address is the client (no proxy).
    trusted_proxies: list[str] = Field(default_factory=list)
    # Sign-in throttling: failed attempts allowed per client address in the window, before a 429.
    sign_in_failures_per_address: int = 20
    sign_in_failure_window_seconds: int = 900
    landlord: LandlordSettings = Field(default_factory=LandlordSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)  # INTAKE_OIDC_*: optional single sign-on

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment != Environment.PRODUCTION:
            return self
        weakness = secret_key_weakness(self.secret_key.get_secret_value())
        if weakness:
            raise ValueError(
                f"INTAKE_SECRET_KEY is too weak for production: {weakness} "
                "(make one with: openssl rand -base64 48)"
            )
        if self.twilio.skip_signature_validation:
            raise ValueError(
                "INTAKE_TWILIO_SKIP_SIGNATURE_VALIDATION cannot be used in production: "
                "unsigned webhooks would be accepted from anyone"
            )
        return self

    @model_validator(mode="after")
    def _relative_paths_from_home(self) -> Settings:
        home = self.home.expanduser().resolve()
        self.home = home
        if not self.model_dir.is_absolute():
            self.model_dir = home / self.model_dir
        if not self.outbox_dir.is_absolute():
            self.outbox_dir = home / self.outbox_dir
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            path = self.database_url[len(prefix) :]
            if path and not path.startswith("/") and not path.startswith(":memory:"):
                self.database_url = f"{prefix}{home / path}"
        return self

    @property
    def uses_https(self) -> bool:
        """The public address is https: browsers are told to use nothing else (HSTS)."""
        return urlsplit(self.public_base_url).scheme == "https"

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    @property
    def job_mode(self) -> str:
        """rq, database or inline: `jobs` with "auto" resolved."""
        if self.jobs != "auto":
            return self.jobs
        return "rq" if self.redis_url else "database"


@cache
def get_settings() -> Settings:
    """The process's settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
