"""IMAP intake: poll mailboxes with imapclient and hand each message to the pipeline, once.

Position is kept per mailbox as (UIDVALIDITY, last UID) in `ChannelCursor(channel="email",
key="<host>/<user>/<folder>")`. The order of work is what makes it safe:

1. fetch a batch with BODY.PEEK[] (peeking leaves \\Seen alone);
2. `ingest` each message — its own transaction; the (channel, Message-ID) unique constraint makes a
   second delivery of the same message harmless;
3. only then mark the batch (\\Seen, or move it to the processed folder), and
4. move the cursor past it.

A crash or a dropped connection anywhere before 4 means the batch is fetched again next time and
deduplicated by Message-ID; nothing is marked before it is committed. A changed UIDVALIDITY (the
mailbox was recreated or restored) resets the cursor: the mailbox is read again from the start and
every message already stored is recognised, not duplicated.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.imapclient import DELETED, SEEN
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from channels.email_automatic import is_own_address
from channels.email_parse import parse_email, unreadable_message
from channels.errors import ConfigurationError
from channels.message import InboundMessage
from channels.settings import ChannelSettings as Settings
from channels.settings import ImapSettings
from intake import audit
from intake.errors import InvalidMessage
from intake.pipeline import IngestResult, ingest
from intake.runtime import Runtime
from models import ChannelCursor

log = logging.getLogger(__name__)

CURSOR_CHANNEL = "email"
MARK_MODES = ("seen", "move")
BATCH_SIZE = 50  # UIDs per FETCH
MAX_FETCH_BYTES = 64 * 1024 * 1024  # a batch of large messages is fetched in smaller groups
IDLE_WAKE_SECONDS = 5.0  # IDLE wakes this often to notice a stop request
# Servers drop an IDLE after 30 minutes (RFC 2177); re-issue well before.
MAX_IDLE_SECONDS = 25 * 60


@dataclass(frozen=True)
class Mailbox:
    """One folder of one IMAP account, and what to do with what is read from it."""

    host: str
    user: str
    password: str = field(repr=False)
    port: int = 993
    ssl: bool = True
    folder: str = "INBOX"
    hint: str | None = None
    mark_mode: str = "seen"
    processed_folder: str = "Processed"
    max_attachment_bytes: int = 20 * 1024 * 1024

    @property
    def key(self) -> str:
        return f"{self.host}/{self.user}/{self.folder}"[:255]


def mailboxes_from_settings(settings: ImapSettings) -> list[Mailbox]:
    """The main mailbox and every extra one (same server; own account when `user` is given)."""
    if not settings.host:
        return []
    if not settings.user or settings.password is None:
        raise ConfigurationError(
            "INTAKE_IMAP_HOST is set but INTAKE_IMAP_USER or INTAKE_IMAP_PASSWORD is not"
        )
    if settings.mark_mode not in MARK_MODES:
        raise ConfigurationError(
            f"INTAKE_IMAP_MARK_MODE must be one of {', '.join(MARK_MODES)}, not {settings.mark_mode!r}"
        )
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "ssl": settings.ssl,
        "mark_mode": settings.mark_mode,
        "processed_folder": settings.processed_folder,
        "max_attachment_bytes": settings.max_attachment_bytes,
    }
    mailboxes = [
        Mailbox(
            user=settings.user,
            password=settings.password.get_secret_value(),
            folder=settings.folder,
            hint=settings.hint,
            **common,
        )
    ]
    for extra in settings.extra_mailboxes:
        password = extra.password or (settings.password if extra.user in (None, settings.user) else None)
        if password is None:
            raise ConfigurationError(f"the extra IMAP mailbox for {extra.user} has no password")
        mailboxes.append(
            Mailbox(
                user=extra.user or settings.user,
                password=password.get_secret_value(),
                folder=extra.folder,
                hint=extra.hint,
                **common,
            )
        )
    keys = [mailbox.key for mailbox in mailboxes]
    if len(set(keys)) != len(keys):
        raise ConfigurationError(f"the same IMAP mailbox is configured twice: {keys}")
    return mailboxes


def own_addresses(settings: Settings) -> list[str]:
    """The landlord's addresses: configured ones, the acknowledgement sender, the polled accounts."""
    found = [*settings.landlord_addresses, settings.smtp.from_address]
    found += [mailbox.user for mailbox in mailboxes_from_settings(settings.imap)]
    return [address.lower() for address in found if address and "@" in address]


@dataclass
class PollReport:
    mailbox: str
    fetched: int = 0
    created: int = 0
    duplicates: int = 0
    unreadable: int = 0
    uidvalidity_changed: bool = False
    last_uid: int = 0
    error: str | None = None

    def summary(self) -> str:
        if self.error:
            return f"{self.mailbox}: failed: {self.error}"
        reset = (
            " (UIDVALIDITY changed: mailbox read again from the start)" if self.uidvalidity_changed else ""
        )
        return (
            f"{self.mailbox}: {self.fetched} fetched, {self.created} new, {self.duplicates} already stored, "
            f"{self.unreadable} unreadable{reset}"
        )


class MailboxPoller:
    """Reads one mailbox. Keeps its connection between polls; reconnects after any failure."""

    def __init__(
        self,
        runtime: Runtime,
        mailbox: Mailbox,
        *,
        batch_size: int = BATCH_SIZE,
        timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if mailbox.mark_mode not in MARK_MODES:
            raise ConfigurationError(f"unknown IMAP mark mode {mailbox.mark_mode!r}; use one of {MARK_MODES}")
        self.runtime = runtime
        self.mailbox = mailbox
        self.batch_size = batch_size
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.own_addresses = own_addresses(runtime.settings)
        self._client: IMAPClient | None = None

    def __enter__(self) -> MailboxPoller:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- connection --------------------------------------------------------------------------

    def client(self) -> IMAPClient:
        if self._client is None:
            client = IMAPClient(
                self.mailbox.host,
                port=self.mailbox.port,
                ssl=self.mailbox.ssl,
                ssl_context=self.ssl_context or (ssl.create_default_context() if self.mailbox.ssl else None),
                timeout=self.timeout,
            )
            client.normalise_times = False  # keep INTERNALDATE's own offset: it is when the message arrived
            try:
                client.login(self.mailbox.user, self.mailbox.password)
                if self.mailbox.mark_mode == "move" and not client.folder_exists(
                    self.mailbox.processed_folder
                ):
                    client.create_folder(self.mailbox.processed_folder)
            except BaseException:
                _quietly(client.shutdown)
                raise
            self._client = client
        return self._client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.logout()
            except Exception:  # already gone: just drop the socket
                _quietly(client.shutdown)

    # --- polling -----------------------------------------------------------------------------

    def poll(self) -> PollReport:
        """Ingest every message not yet read from this mailbox. Raises on connection errors (after
        closing the connection, so the next call starts afresh); what was committed stays committed."""
        try:
            return self._poll()
        except BaseException:
            self.close()
            raise

    def _poll(self) -> PollReport:
        report = PollReport(mailbox=self.mailbox.key)
        client = self.client()
        selected = client.select_folder(self.mailbox.folder)
        validity = int(selected[b"UIDVALIDITY"])
        position, report.uidvalidity_changed = self._cursor(validity)
        report.last_uid = position
        uids = sorted(uid for uid in client.search(["UID", f"{position + 1}:*"]) if uid > position)
        for batch in _chunks(uids, self.batch_size):
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            for group in _groups_by_size(batch, sizes, MAX_FETCH_BYTES):
                fetched = client.fetch(group, ["BODY.PEEK[]", "INTERNALDATE"])
                for uid in group:
                    data = fetched.get(uid)
                    if data is None or b"BODY[]" not in data:
                        log.info("%s: UID %s vanished before it was fetched", self.mailbox.key, uid)
                        continue
                    self._ingest(uid, validity, data, report)
                # Marked and passed only now that every message of the group is committed.
                self._mark(group)
                self._advance(validity, group[-1])
                report.last_uid = group[-1]
        return report

    def _ingest(self, uid: int, validity: int, data: dict[bytes, Any], report: PollReport) -> IngestResult:
        raw = bytes(data[b"BODY[]"])
        internal_date = data.get(b"INTERNALDATE")
        message = parse_email(
            raw,
            mailbox_hint=self.mailbox.hint,
            max_attachment_bytes=self.mailbox.max_attachment_bytes,
            received_at=internal_date if isinstance(internal_date, datetime) else None,
        )
        self._note_origin(message, uid, validity)
        try:
            result = ingest(self.runtime, message, actor="imap")
        except InvalidMessage as error:  # the pipeline refused it: keep it as unreadable instead
            fallback = unreadable_message(
                raw,
                reason=f"refused by intake: {error}",
                mailbox_hint=self.mailbox.hint,
                received_at=message.received_at,
            )
            self._note_origin(fallback, uid, validity)
            result = ingest(self.runtime, fallback, actor="imap")
            message = fallback
        report.fetched += 1
        report.created += result.created
        report.duplicates += not result.created
        report.unreadable += bool(message.parse_error) and result.created
        return result

    def _note_origin(self, message: InboundMessage, uid: int, validity: int) -> None:
        message.metadata["imap"] = {"mailbox": self.mailbox.key, "uid": uid, "uidvalidity": validity}
        if not message.suppress_acknowledgement_reason and is_own_address(
            message.sender_address, self.own_addresses
        ):
            message.suppress_acknowledgement_reason = "sent from one of the landlord's own addresses"

    def _mark(self, uids: list[int]) -> None:
        client = self.client()
        if self.mailbox.mark_mode == "seen":
            client.add_flags(uids, [SEEN], silent=True)
            return
        if client.has_capability("MOVE"):
            client.move(uids, self.mailbox.processed_folder)
            return
        client.copy(uids, self.mailbox.processed_folder)
        client.add_flags(uids, [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    # --- the cursor --------------------------------------------------------------------------

    def _cursor(self, validity: int) -> tuple[int, bool]:
        """(last UID read, whether UIDVALIDITY changed since the last poll)."""
        for attempt in (1, 2):
            try:
                with self.runtime.database.session() as session:
                    cursor = self._load_cursor(session)
                    if cursor is None:
                        session.add(
                            ChannelCursor(
                                channel=CURSOR_CHANNEL, key=self.mailbox.key, validity=validity, position=0
                            )
                        )
                        return 0, False
                    if cursor.validity == validity:
                        return cursor.position, False
                    audit.record(
                        session,
                        actor="imap",
                        action="imap_uidvalidity_changed",
                        mailbox=self.mailbox.key,
                        before=cursor.validity,
                        after=validity,
                        last_uid=cursor.position,
                    )
                    log.warning(
                        "%s: UIDVALIDITY changed (%s → %s): reading the mailbox again",
                        self.mailbox.key,
                        cursor.validity,
                        validity,
                    )
                    cursor.validity, cursor.position = validity, 0
                    return 0, True
            except IntegrityError:  # another poller created the cursor at the same moment
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _advance(self, validity: int, uid: int) -> None:
        with self.runtime.database.session() as session:
            cursor = self._load_cursor(session, for_update=True)
            if cursor is not None and cursor.validity == validity and uid > cursor.position:
                cursor.position = uid

    def _load_cursor(self, session: Any, *, for_update: bool = False) -> ChannelCursor | None:
        query = select(ChannelCursor).where(
            ChannelCursor.channel == CURSOR_CHANNEL, ChannelCursor.key == self.mailbox.key
        )
        return session.scalars(query.with_for_update() if for_update else query).first()  # type: ignore[no-any-return]

    # --- waiting -----------------------------------------------------------------------------

    def wait_for_mail(self, timeout: float, stop: threading.Event | None = None) -> None:
        """Wait up to `timeout` seconds: with IDLE (woken by new mail) when the server offers it."""
        stop = stop or threading.Event()
        client = self.client()
        if not client.has_capability("IDLE"):
            stop.wait(timeout)
            return
        deadline = time.monotonic() + min(timeout, MAX_IDLE_SECONDS)
        client.idle()
        try:
            while not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                responses = client.idle_check(timeout=min(IDLE_WAKE_SECONDS, remaining))
                if any(_announces_mail(response) for response in responses):
                    return
        finally:
            client.idle_done()


def poll_all(runtime: Runtime, **poller_options: Any) -> list[PollReport]:
    """Poll every configured mailbox once. A failing mailbox is reported; the others still run."""
    reports = []
    for mailbox in mailboxes_from_settings(runtime.settings.imap):
        try:
            with MailboxPoller(runtime, mailbox, **poller_options) as poller:
                reports.append(poller.poll())
        except Exception as error:
            log.exception("polling %s failed", mailbox.key)
            reports.append(PollReport(mailbox=mailbox.key, error=f"{type(error).__name__}: {error}"))
    return reports


def run_forever(runtime: Runtime, *, interval: float, stop: threading.Event, **poller_options: Any) -> None:
    """Poll every mailbox until `stop` is set: one thread per mailbox, each with IDLE between polls."""
    threads = start_polling_threads(runtime, interval=interval, stop=stop, **poller_options)
    for thread in threads:
        thread.join()


def start_polling_threads(
    runtime: Runtime, *, interval: float, stop: threading.Event, **poller_options: Any
) -> list[threading.Thread]:
    threads = []
    for mailbox in mailboxes_from_settings(runtime.settings.imap):
        thread = threading.Thread(
            target=_poll_loop,
            args=(runtime, mailbox, interval, stop),
            kwargs=poller_options,
            name=f"imap:{mailbox.key}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads


def _poll_loop(
    runtime: Runtime, mailbox: Mailbox, interval: float, stop: threading.Event, **poller_options: Any
) -> None:
    poller = MailboxPoller(runtime, mailbox, **poller_options)
    failures = 0
    while not stop.is_set():
        try:
            report = poller.poll()
            if report.fetched:
                log.info(report.summary())
            failures = 0
            poller.wait_for_mail(interval, stop)
        except Exception as error:
            failures += 1
            poller.close()
            delay = min(interval, 2.0 ** min(failures, 8))
            log.warning("%s: %s: %s; retrying in %.0fs", mailbox.key, type(error).__name__, error, delay)
            stop.wait(delay)
    poller.close()


def _announces_mail(response: object) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _groups_by_size(uids: list[int], sizes: dict[int, dict[bytes, Any]], limit: int) -> Iterator[list[int]]:
    """Consecutive UIDs whose messages add up to at most `limit` bytes (a larger one goes alone)."""
    group: list[int] = []
    total = 0
    for uid in uids:
        size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
        if group and total + size > limit:
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


def _quietly(action: Any) -> None:
    with contextlib.suppress(Exception):  # closing a connection that is already broken
        action()
