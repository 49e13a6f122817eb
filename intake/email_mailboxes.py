"""The mailboxes intake polls: built from settings, stored through the pipeline, watched by people.

`mailboxes_from_settings` turns the INTAKE_IMAP_* account (the first mailbox, as before), its
extra folders and INTAKE_EMAIL_MAILBOXES into `channels.email_imap.Mailbox`es, each signing in by
password or by OAuth2 (one token provider per app registration, shared by its mailboxes).
`DatabaseMailboxStore` is the `MailboxStore` the poller is handed: the cursor in
`channel_cursors`, `ingest` through the pipeline, and each poll's outcome (last poll, last error,
messages waiting) beside the cursor, where the Settings page and /healthz read it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.email_imap import (
    MARK_MODES,
    Mailbox,
    MailboxPoller,
    MessageRefused,
    PollReport,
)
from channels.email_imap import poll_all as poll_mailboxes
from channels.email_imap import start_polling_threads as start_mailbox_threads
from channels.email_oauth2 import OAuth2Credentials, TokenProvider
from channels.message import InboundMessage
from intake import audit
from intake.errors import ConfigurationError, InvalidMessage
from intake.pipeline import ingest
from intake.runtime import Runtime
from intake.settings import ImapSettings, MailboxSettings, OAuth2AppSettings, Settings
from models import ChannelCursor

CURSOR_CHANNEL = "email"
MICROSOFT_365_IMAP_HOST = "outlook.office365.com"


# --- settings → mailboxes ------------------------------------------------------------------


def oauth2_credentials(app: OAuth2AppSettings, *, for_what: str) -> OAuth2Credentials:
    missing = [f"INTAKE_EMAIL_{name.upper()}" for name in ("tenant_id", "client_id") if not getattr(app, name)]
    if not app.client_secret and not app.certificate_path:
        missing.append("INTAKE_EMAIL_CLIENT_SECRET (or _CERTIFICATE_PATH)")
    if missing:
        raise ConfigurationError(f"{for_what} signs in with OAuth2 but {', '.join(missing)} is not set")
    assert app.tenant_id and app.client_id  # narrowed by the check above
    certificate = None
    if app.certificate_path:
        try:
            certificate = app.certificate_path.read_text()
        except OSError as error:
            raise ConfigurationError(
                f"{for_what}: cannot read the client certificate {app.certificate_path}: {error.strerror}"
            ) from error
    return OAuth2Credentials(
        tenant_id=app.tenant_id,
        client_id=app.client_id,
        client_secret=app.client_secret.get_secret_value() if app.client_secret else None,
        certificate_pem=certificate,
        token_endpoint=app.token_endpoint or None,
        scope=app.scope,
    )


class _Providers:
    """One token provider per app registration, so mailboxes of one app share its token."""

    def __init__(self) -> None:
        self._by_credentials: dict[OAuth2Credentials, TokenProvider] = {}

    def get(self, credentials: OAuth2Credentials) -> TokenProvider:
        if credentials not in self._by_credentials:
            self._by_credentials[credentials] = TokenProvider(credentials)
        return self._by_credentials[credentials]


def mailboxes_from_settings(settings: Settings) -> list[Mailbox]:
    """Every configured mailbox: the INTAKE_IMAP_* one first, its extra folders, then
    INTAKE_EMAIL_MAILBOXES. Raises ConfigurationError saying which setting is missing."""
    imap, email = settings.imap, settings.email
    providers = _Providers()
    mailboxes: list[Mailbox] = []
    if imap.host:
        mailboxes += _imap_mailboxes(imap, settings, providers)
    for number, extra in enumerate(email.mailboxes, start=1):
        mailboxes.append(_email_mailbox(extra, number, settings, providers))
    for mailbox in mailboxes:
        if mailbox.mark_mode not in MARK_MODES:
            raise ConfigurationError(
                f"INTAKE_IMAP_MARK_MODE must be one of {', '.join(MARK_MODES)}, not {mailbox.mark_mode!r}"
            )
    keys = [mailbox.key for mailbox in mailboxes]
    if len(set(keys)) != len(keys):
        raise ConfigurationError(f"the same IMAP mailbox is configured twice: {keys}")
    return mailboxes


def _imap_mailboxes(imap: ImapSettings, settings: Settings, providers: _Providers) -> list[Mailbox]:
    assert imap.host
    oauth2 = settings.email.imap_auth == "oauth2"
    if not imap.user or (imap.password is None and not oauth2):
        raise ConfigurationError(
            "INTAKE_IMAP_HOST is set but INTAKE_IMAP_USER or INTAKE_IMAP_PASSWORD is not"
            " (or set INTAKE_EMAIL_IMAP_AUTH=oauth2)"
        )
    common: dict[str, Any] = {
        "host": imap.host,
        "port": imap.port,
        "ssl": imap.ssl,
        "mark_mode": imap.mark_mode,
        "processed_folder": imap.processed_folder,
        "max_attachment_bytes": imap.max_attachment_bytes,
    }
    provider = (
        providers.get(oauth2_credentials(settings.email.app, for_what="the INTAKE_IMAP mailbox"))
        if oauth2
        else None
    )

    def sign_in(password: Any) -> dict[str, Any]:
        if provider is not None:
            return {"token_provider": provider}
        return {"password": password.get_secret_value()}

    mailboxes = [Mailbox(user=imap.user, folder=imap.folder, hint=imap.hint, **sign_in(imap.password), **common)]
    for extra in imap.extra_mailboxes:
        password = extra.password or (imap.password if extra.user in (None, imap.user) else None)
        if password is None and provider is None:
            raise ConfigurationError(f"the extra IMAP mailbox for {extra.user} has no password")
        mailboxes.append(
            Mailbox(user=extra.user or imap.user, folder=extra.folder, hint=extra.hint, **sign_in(password), **common)
        )
    return mailboxes


def _email_mailbox(
    extra: MailboxSettings, number: int, settings: Settings, providers: _Providers
) -> Mailbox:
    imap = settings.imap
    where = f"INTAKE_EMAIL_MAILBOXES[{number}] ({extra.user})"
    sign_in: dict[str, Any]
    default_host: str | None
    if extra.auth == "oauth2":
        credentials = oauth2_credentials(extra.oauth2 or settings.email.app, for_what=where)
        sign_in = {"token_provider": providers.get(credentials)}
        default_host = imap.host or MICROSOFT_365_IMAP_HOST
    else:
        if extra.password is None:
            raise ConfigurationError(f"{where} signs in with a password but has none")
        sign_in = {"password": extra.password.get_secret_value()}
        default_host = imap.host
    host = extra.host or default_host
    if not host:
        raise ConfigurationError(f"{where} has no host, and INTAKE_IMAP_HOST is not set")
    return Mailbox(
        host=host,
        user=extra.user,
        port=extra.port or (imap.port if host == imap.host else 993),
        ssl=imap.ssl if extra.ssl is None else extra.ssl,
        folder=extra.folder,
        hint=extra.hint,
        mark_mode=extra.mark_mode or imap.mark_mode,
        processed_folder=extra.processed_folder or imap.processed_folder,
        max_attachment_bytes=imap.max_attachment_bytes,
        **sign_in,
    )


def own_addresses(settings: Settings, mailboxes: list[Mailbox] | None = None) -> list[str]:
    """The landlord's addresses: configured ones, the acknowledgement sender, the polled accounts."""
    found = [*settings.landlord_addresses, settings.smtp.from_address]
    found += [mailbox.user for mailbox in (mailboxes if mailboxes is not None else mailboxes_from_settings(settings))]
    return [address.lower() for address in found if address and "@" in address]


# --- the store the poller is handed --------------------------------------------------------


class DatabaseMailboxStore:
    """`channels.email_imap.MailboxStore` on the intake database and pipeline."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def ingest(self, message: InboundMessage) -> bool:
        try:
            return ingest(self.runtime, message, actor="imap").created
        except InvalidMessage as error:
            raise MessageRefused(str(error)) from error

    def cursor(self, mailbox: str, validity: int) -> tuple[int, bool]:
        for attempt in (1, 2):
            try:
                with self.runtime.database.session() as session:
                    cursor = _load(session, mailbox)
                    if cursor is None:
                        session.add(ChannelCursor(channel=CURSOR_CHANNEL, key=mailbox, validity=validity, position=0))
                        return 0, False
                    if cursor.validity is None:  # only its state was recorded so far (sign-in failed)
                        cursor.validity, cursor.position = validity, 0
                        return 0, False
                    if cursor.validity == validity:
                        return cursor.position, False
                    audit.record(
                        session,
                        actor="imap",
                        action="imap_uidvalidity_changed",
                        mailbox=mailbox,
                        before=cursor.validity,
                        after=validity,
                        last_uid=cursor.position,
                    )
                    cursor.validity, cursor.position = validity, 0
                    return 0, True
            except IntegrityError:  # another poller created the cursor at the same moment
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def advance(self, mailbox: str, validity: int, uid: int) -> None:
        with self.runtime.database.session() as session:
            cursor = _load(session, mailbox, for_update=True)
            if cursor is not None and cursor.validity == validity and uid > cursor.position:
                cursor.position = uid

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def record_poll(self, mailbox: str, report: PollReport) -> None:
        now = self.runtime.clock.now()
        for attempt in (1, 2):
            try:
                with self.runtime.database.session() as session:
                    cursor = _load(session, mailbox, for_update=True)
                    if cursor is None:
                        cursor = ChannelCursor(channel=CURSOR_CHANNEL, key=mailbox, validity=None, position=0)
                        session.add(cursor)
                    cursor.last_polled_at = now
                    cursor.last_error = report.error[:2000] if report.error else None
                    cursor.last_error_code = report.error_code
                    if report.error is None:
                        cursor.last_success_at = now
                    cursor.waiting = report.waiting  # None: the folder was not reached, so unknown
                return
            except IntegrityError:
                if attempt == 2:
                    raise


def _load(session: Session, mailbox: str, *, for_update: bool = False) -> ChannelCursor | None:
    query = select(ChannelCursor).where(ChannelCursor.channel == CURSOR_CHANNEL, ChannelCursor.key == mailbox)
    return session.scalars(query.with_for_update() if for_update else query).first()


# --- polling, for the CLI and the worker ---------------------------------------------------


def poller_for(runtime: Runtime, mailbox: Mailbox, **options: Any) -> MailboxPoller:
    return MailboxPoller(
        mailbox, DatabaseMailboxStore(runtime), own_addresses=own_addresses(runtime.settings), **options
    )


def poll_all(runtime: Runtime, **options: Any) -> list[PollReport]:
    """Poll every configured mailbox once; a failing one is reported, the others still run."""
    mailboxes = mailboxes_from_settings(runtime.settings)
    return poll_mailboxes(
        mailboxes,
        DatabaseMailboxStore(runtime),
        own_addresses=own_addresses(runtime.settings, mailboxes),
        **options,
    )


def start_polling_threads(
    runtime: Runtime, *, interval: float, stop: threading.Event, **options: Any
) -> list[threading.Thread]:
    mailboxes = mailboxes_from_settings(runtime.settings)
    return start_mailbox_threads(
        mailboxes,
        DatabaseMailboxStore(runtime),
        interval=interval,
        stop=stop,
        own_addresses=own_addresses(runtime.settings, mailboxes),
        **options,
    )


def run_forever(runtime: Runtime, *, interval: float, stop: threading.Event, **options: Any) -> None:
    for thread in start_polling_threads(runtime, interval=interval, stop=stop, **options):
        thread.join()


# --- what people see -----------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxState:
    key: str
    auth: str
    hint: str | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_code: str | None
    waiting: int | None

    @property
    def status(self) -> str:
        if self.last_polled_at is None:
            return "not polled yet"
        return f"error: {self.last_error_code}" if self.last_error else "ok"


def mailbox_states(runtime: Runtime) -> list[MailboxState]:
    """Each configured mailbox with its last poll's outcome (from whichever process polled it)."""
    mailboxes = mailboxes_from_settings(runtime.settings)
    with runtime.database.session() as session:
        cursors = {
            cursor.key: cursor
            for cursor in session.scalars(select(ChannelCursor).where(ChannelCursor.channel == CURSOR_CHANNEL))
        }
        states = []
        for mailbox in mailboxes:
            cursor = cursors.get(mailbox.key)
            states.append(
                MailboxState(
                    key=mailbox.key,
                    auth=mailbox.auth,
                    hint=mailbox.hint,
                    last_polled_at=cursor.last_polled_at if cursor else None,
                    last_success_at=cursor.last_success_at if cursor else None,
                    last_error=cursor.last_error if cursor else None,
                    last_error_code=cursor.last_error_code if cursor else None,
                    waiting=cursor.waiting if cursor else None,
                )
            )
    return states


def health_details(runtime: Runtime) -> dict[str, str]:
    """For /healthz: each mailbox's key → "ok", "not polled yet" or "error: <code>: <what to do>".
    A mailbox's sign-in problem is reported here without making the service unhealthy: the other
    mailboxes and every other channel still work."""
    try:
        states = mailbox_states(runtime)
    except ConfigurationError as error:
        return {"configuration": f"error: {error}"}
    except Exception as error:  # /healthz says what is wrong; it never fails because of a detail
        return {"state": f"error: {type(error).__name__}"}
    return {state.key: state.last_error if state.last_error else state.status for state in states}


def settings_rows(runtime: Runtime) -> list[tuple[str, str]]:
    """For the staff Settings page: one row per mailbox, saying how it signs in and how it is doing."""
    try:
        states = mailbox_states(runtime)
    except ConfigurationError as error:
        return [("Email inbox", f"settings incomplete: {error}")]
    if not states:
        return [("Email inbox", "not configured")]
    rows = []
    for state in states:
        sign_in = "OAuth2 (Microsoft 365 app)" if state.auth == "oauth2" else "password"
        parts = [f"signs in with {sign_in}"]
        if state.hint:
            parts.append(f"hint {state.hint}")
        if state.last_polled_at is None:
            parts.append("not polled yet")
        else:
            parts.append(f"last poll {state.last_polled_at:%Y-%m-%d %H:%M} UTC")
            if state.last_success_at and state.last_error:
                parts.append(f"last good poll {state.last_success_at:%Y-%m-%d %H:%M} UTC")
            if state.waiting is not None:
                parts.append(f"{state.waiting} message(s) waiting")
            parts.append(f"ERROR {state.last_error}" if state.last_error else "ok")
        rows.append((f"Mailbox {state.key}", " · ".join(parts)))
    return rows
