"""IMAP intake: poll mailboxes with imapclient and hand each message to a store, once.

The poller knows no tables and no pipeline: intake hands it a `MailboxStore` (the cursor, the
ingest, the record of each poll). Position is kept per mailbox as (UIDVALIDITY, last UID) under
the mailbox's key `<host>/<user>/<folder>`. The order of work is what makes it safe:

1. fetch a batch with BODY.PEEK[] (peeking leaves \\Seen alone);
2. `store.ingest` each message — its own transaction; the store recognises a second delivery of
   the same message (by Message-ID) and does not store it twice;
3. only then mark the batch (\\Seen, or move it to the processed folder), and
4. move the cursor past it.

A crash or a dropped connection anywhere before 4 means the batch is fetched again next time and
deduplicated by Message-ID; nothing is marked before it is committed. A changed UIDVALIDITY (the
mailbox was recreated or restored) resets the cursor: the mailbox is read again from the start and
every message already stored is recognised, not duplicated.

Sign-in is by password or by OAuth2 (Microsoft 365: a client-credentials token over SASL XOAUTH2,
see channels/email_oauth2.py); a refused token is replaced once, then the refusal is named.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from imapclient.imapclient import DELETED, SEEN

from channels.email_automatic import is_own_address
from channels.email_oauth2 import IMAP_ROLE, LoginRefused, MailAuthError, TokenProvider, diagnose_refusal
from channels.email_parse import parse_email, unreadable_message
from channels.message import InboundMessage

log = logging.getLogger(__name__)

MARK_MODES = ("seen", "move")
SASL_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")
BATCH_SIZE = 50  # UIDs per FETCH
MAX_FETCH_BYTES = 64 * 1024 * 1024  # a batch of large messages is fetched in smaller groups
IDLE_WAKE_SECONDS = 5.0  # IDLE wakes this often to notice a stop request
# Servers drop an IDLE after 30 minutes (RFC 2177); re-issue well before.
MAX_IDLE_SECONDS = 25 * 60


@dataclass(frozen=True)
class Mailbox:
    """One folder of one IMAP account, how to sign in to it, and what to do with what is read.

    Signs in with `password`, or — when `token_provider` is set — with an OAuth2 token over SASL
    XOAUTH2 (or OAUTHBEARER) as `user`, which for Microsoft 365 is the (shared) mailbox's address.
    """

    host: str
    user: str
    password: str | None = field(default=None, repr=False)
    token_provider: TokenProvider | None = field(default=None, repr=False, compare=False)
    sasl_mechanism: str = "XOAUTH2"
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

    @property
    def auth(self) -> str:
        return "oauth2" if self.token_provider is not None else "password"


class MessageRefused(Exception):
    """The store would not accept a message as parsed; the poller keeps it as unreadable instead."""


@dataclass
class PollReport:
    mailbox: str
    fetched: int = 0
    created: int = 0
    duplicates: int = 0
    unreadable: int = 0
    uidvalidity_changed: bool = False
    last_uid: int = 0
    waiting: int | None = None  # found but not yet read in (None: the folder was never reached)
    error: str | None = None
    error_code: str | None = None  # MailAuthError.code, or "connection"/"unexpected"

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


class MailboxStore(Protocol):
    """What the poller needs from intake, which implements it: the cursor, the store, the state.

    The poller knows no tables and no pipeline; it is handed one of these.
    """

    def cursor(self, mailbox: str, validity: int) -> tuple[int, bool]:
        """(last UID read, whether UIDVALIDITY changed — then the position is back at 0)."""
        ...

    def advance(self, mailbox: str, validity: int, uid: int) -> None:
        """Move the cursor forward to `uid` (never back; not if UIDVALIDITY has changed since)."""
        ...

    def ingest(self, message: InboundMessage) -> bool:
        """Store a message once; True when it is new. Raises MessageRefused for one it will not take."""
        ...

    def record_poll(self, mailbox: str, report: PollReport) -> None:
        """Keep the outcome of a poll (last poll, last error, messages waiting) for people to see."""
        ...

    def now(self) -> datetime:
        """Intake's clock: a sender's Date header is checked against it (time is an input here too)."""
        ...


def describe_error(error: BaseException) -> tuple[str, str]:
    """(code, message) for a failed poll: named for sign-in problems, the exception otherwise."""
    if isinstance(error, MailAuthError):
        return error.code, f"{error.code}: {error}"
    if isinstance(error, (OSError, ssl.SSLError, EOFError)) or type(error).__module__.startswith("imaplib"):
        return "connection", f"could not talk to the server: {type(error).__name__}: {error}"
    return "unexpected", f"{type(error).__name__}: {error}"


class MailboxPoller:
    """Reads one mailbox. Keeps its connection between polls; reconnects after any failure."""

    def __init__(
        self,
        mailbox: Mailbox,
        store: MailboxStore,
        *,
        own_addresses: Sequence[str] = (),
        batch_size: int = BATCH_SIZE,
        timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if mailbox.mark_mode not in MARK_MODES:
            raise ValueError(f"unknown IMAP mark mode {mailbox.mark_mode!r}; use one of {MARK_MODES}")
        if mailbox.token_provider is None and mailbox.password is None:
            raise ValueError(f"mailbox {mailbox.key} has neither a password nor an OAuth2 token provider")
        if mailbox.sasl_mechanism not in SASL_MECHANISMS:
            raise ValueError(f"unknown SASL mechanism {mailbox.sasl_mechanism!r}; use one of {SASL_MECHANISMS}")
        self.mailbox = mailbox
        self.store = store
        self.batch_size = batch_size
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.own_addresses = [address.lower() for address in own_addresses]
        self._client: IMAPClient | None = None

    def __enter__(self) -> MailboxPoller:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- connection --------------------------------------------------------------------------

    def client(self) -> IMAPClient:
        if self._client is None:
            client = self._signed_in()
            try:
                if self.mailbox.mark_mode == "move" and not client.folder_exists(self.mailbox.processed_folder):
                    client.create_folder(self.mailbox.processed_folder)
            except BaseException:
                _quietly(client.shutdown)
                raise
            self._client = client
        return self._client

    def _open(self) -> IMAPClient:
        client = IMAPClient(
            self.mailbox.host,
            port=self.mailbox.port,
            ssl=self.mailbox.ssl,
            ssl_context=self.ssl_context or (ssl.create_default_context() if self.mailbox.ssl else None),
            timeout=self.timeout,
        )
        client.normalise_times = False  # keep INTERNALDATE's own offset: it is when the message arrived
        return client

    def _signed_in(self) -> IMAPClient:
        mailbox = self.mailbox
        provider = mailbox.token_provider
        if provider is None:
            return self._attempt(
                lambda client: client.login(mailbox.user, mailbox.password or ""),
                refused=lambda: LoginRefused(f"the IMAP server refused the user name or password for {mailbox.user}"),
            )
        token = provider.token()
        try:
            return self._attempt(lambda client: self._oauth2_login(client, token))
        except LoginError:
            # Once more, on a new connection (a server may hang up after a refusal) with a new
            # token: the cached one may have been revoked or have expired early.
            log.info("%s: the server refused the OAuth2 token; fetching a new one", mailbox.key)
        token = provider.refresh(refused=token)
        return self._attempt(
            lambda client: self._oauth2_login(client, token),
            refused=lambda: diagnose_refusal(token, role=IMAP_ROLE, user=mailbox.user, service="IMAP"),
        )

    def _attempt(
        self, sign_in: Callable[[IMAPClient], object], refused: Callable[[], Exception] | None = None
    ) -> IMAPClient:
        """A new connection signed in by `sign_in`; closed again if that fails. A refusal raises
        `refused()` when given (the named error), else the LoginError itself."""
        client = self._open()
        try:
            sign_in(client)
        except LoginError:
            _quietly(client.shutdown)
            if refused is None:
                raise
            raise refused() from None
        except BaseException:
            _quietly(client.shutdown)
            raise
        return client

    def _oauth2_login(self, client: IMAPClient, token: str) -> None:
        if self.mailbox.sasl_mechanism == "OAUTHBEARER":
            client.oauthbearer_login(self.mailbox.user, token)
        else:
            client.oauth2_login(self.mailbox.user, token, mech="XOAUTH2")

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.logout()
            except Exception:  # already gone: just drop the socket
                _quietly(client.shutdown)

    def check(self) -> dict[str, int]:
        """Sign in and look at the folder without reading or marking anything (`intake email check`):
        its message count and how many are unseen. Raises as `poll` does."""
        try:
            status = self.client().folder_status(self.mailbox.folder, ["MESSAGES", "UNSEEN"])
        except BaseException:
            self.close()
            raise
        return {"messages": int(status[b"MESSAGES"]), "unseen": int(status[b"UNSEEN"])}

    # --- polling -----------------------------------------------------------------------------

    def poll(self) -> PollReport:
        """Ingest every message not yet read from this mailbox and record how it went. Raises on
        sign-in and connection errors (after closing the connection, so the next call starts
        afresh, and recording the error); what was committed stays committed."""
        report = PollReport(mailbox=self.mailbox.key)
        try:
            self._poll(report)
        except BaseException as error:
            self.close()
            report.error_code, report.error = describe_error(error)
            self._record(report)
            raise
        self._record(report)
        return report

    def _record(self, report: PollReport) -> None:
        try:
            self.store.record_poll(self.mailbox.key, report)
        except Exception:  # the state is for people to see; failing to keep it must not stop intake
            log.exception("%s: could not record the poll's outcome", self.mailbox.key)

    def _poll(self, report: PollReport) -> None:
        client = self.client()
        selected = client.select_folder(self.mailbox.folder)
        validity = int(selected[b"UIDVALIDITY"])
        position, report.uidvalidity_changed = self.store.cursor(self.mailbox.key, validity)
        if report.uidvalidity_changed:
            log.warning("%s: UIDVALIDITY changed (now %s): reading the mailbox again", self.mailbox.key, validity)
        report.last_uid = position
        uids = sorted(uid for uid in client.search(["UID", f"{position + 1}:*"]) if uid > position)
        report.waiting = len(uids)
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
                self.store.advance(self.mailbox.key, validity, group[-1])
                report.last_uid = group[-1]
                report.waiting -= len(group)

    def _ingest(self, uid: int, validity: int, data: dict[bytes, Any], report: PollReport) -> bool:
        raw = bytes(data[b"BODY[]"])
        internal_date = data.get(b"INTERNALDATE")
        message = parse_email(
            raw,
            mailbox_hint=self.mailbox.hint,
            max_attachment_bytes=self.mailbox.max_attachment_bytes,
            received_at=internal_date if isinstance(internal_date, datetime) else None,
            now=self.store.now(),
        )
        self._note_origin(message, uid, validity)
        try:
            created = self.store.ingest(message)
        except MessageRefused as error:  # refused as parsed: keep it as unreadable instead
            fallback = unreadable_message(
                raw,
                reason=f"refused by intake: {error}",
                mailbox_hint=self.mailbox.hint,
                received_at=message.received_at,
            )
            self._note_origin(fallback, uid, validity)
            created = self.store.ingest(fallback)
            message = fallback
        report.fetched += 1
        report.created += created
        report.duplicates += not created
        report.unreadable += bool(message.parse_error) and created
        return created

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


def poll_all(
    mailboxes: Sequence[Mailbox], store: MailboxStore, **poller_options: Any
) -> list[PollReport]:
    """Poll every mailbox once. A failing mailbox is reported (and recorded); the others still run."""
    reports = []
    for mailbox in mailboxes:
        poller = MailboxPoller(mailbox, store, **poller_options)
        try:
            reports.append(poller.poll())
        except Exception as error:
            code, message = describe_error(error)
            if code == "unexpected":
                log.exception("polling %s failed", mailbox.key)
            else:
                log.warning("polling %s failed: %s", mailbox.key, message)
            reports.append(PollReport(mailbox=mailbox.key, error=message, error_code=code))
        finally:
            poller.close()
    return reports


def run_forever(
    mailboxes: Sequence[Mailbox], store: MailboxStore, *, interval: float, stop: threading.Event, **poller_options: Any
) -> None:
    """Poll every mailbox until `stop` is set: one thread per mailbox, each with IDLE between polls."""
    threads = start_polling_threads(mailboxes, store, interval=interval, stop=stop, **poller_options)
    for thread in threads:
        thread.join()


def start_polling_threads(
    mailboxes: Sequence[Mailbox], store: MailboxStore, *, interval: float, stop: threading.Event, **poller_options: Any
) -> list[threading.Thread]:
    """One thread per mailbox; a mailbox that cannot sign in retries with back-off on its own."""
    threads = []
    for mailbox in mailboxes:
        thread = threading.Thread(
            target=_poll_loop,
            args=(MailboxPoller(mailbox, store, **poller_options), interval, stop),
            name=f"imap:{mailbox.key}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads


def _poll_loop(poller: MailboxPoller, interval: float, stop: threading.Event) -> None:
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
            log.warning("%s: %s; retrying in %.0fs", poller.mailbox.key, describe_error(error)[1], delay)
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
