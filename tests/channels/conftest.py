"""Fixtures for the channel tests. Email: a real Dovecot, a real aiosmtpd, and a runtime wired to
both. SMS and transcripts: the Twilio stand-in fixtures, defined in twilio_support.py.

Dovecot is started once per session from a configuration written by `mail_servers.DovecotServer`;
each test gets its own folder on it. Without a `dovecot` binary the tests that need it are skipped
with a message — or fail, when INTAKE_TEST_REQUIRE_SERVICES=1 (as in .ci/run).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake.runtime import Runtime, use_runtime
from intake.settings import ImapSettings, SmtpSettings
from tests.channels.mail_servers import DovecotServer, SmtpServer, find_dovecot
from tests.channels.oauth2_support import (  # noqa: F401  (the Microsoft 365 tests' fixtures)
    m365_mailbox,
    m365_repairs_mailbox,
    oauth2_dovecot,
    token_service,
)
from tests.channels.twilio_support import sms_runtime, twilio_standin, webhooks  # noqa: F401  (SMS tests' fixtures)
from tests.conftest import REQUIRE_SERVICES, make_settings

LANDLORD_ADDRESS = "contact@riverside-homes.example"
LANDLORD_DOMAIN = "@riverside-homes.example"
CORPUS_DIR = Path(__file__).with_name("email_corpus")
_folder_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    binary = find_dovecot()
    if binary is None:
        message = "dovecot is not installed (apt-get install dovecot-imapd; `make test` installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and INTAKE_TEST_REQUIRE_SERVICES=1")
        pytest.skip(message)
    server = DovecotServer(binary)
    try:
        server.start()
    except RuntimeError as error:
        server.stop()
        pytest.fail(f"dovecot would not start: {error}")
    yield server
    server.stop()


@dataclass
class TestMailbox:
    """One folder on the test Dovecot, with the helpers a test needs to fill and inspect it."""

    server: DovecotServer
    folder: str
    user: str

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def append(self, raw: bytes) -> None:
        with self.server.session(self.user) as client:
            client.append(self.folder, to_wire(raw))

    def uids(self, folder: str | None = None) -> list[int]:
        with self.server.session(self.user) as client:
            client.select_folder(folder or self.folder, readonly=True)
            return sorted(client.search(["ALL"]))

    def seen(self) -> dict[int, bool]:
        with self.server.session(self.user) as client:
            client.select_folder(self.folder, readonly=True)
            flags = client.get_flags(client.search(["ALL"]))
        return {uid: b"\\Seen" in value for uid, value in flags.items()}

    def uidvalidity(self) -> int:
        with self.server.session(self.user) as client:
            return int(client.folder_status(self.folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def recreate(self) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        with self.server.session(self.user) as client:
            client.delete_folder(self.folder)
            client.create_folder(self.folder)


def to_wire(raw: bytes) -> bytes:
    """Line ends as IMAP carries them (CRLF); the corpus files are stored with LF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _make_mailbox(dovecot: DovecotServer, user: str) -> Iterator[TestMailbox]:
    folder = f"Intake{next(_folder_numbers)}"
    with dovecot.session(user) as client:
        client.create_folder(folder)
    yield TestMailbox(dovecot, folder, user)
    with dovecot.session(user) as client, contextlib.suppress(Exception):
        client.delete_folder(folder)


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> Iterator[TestMailbox]:
    yield from _make_mailbox(dovecot, dovecot.user)


@pytest.fixture
def repairs_mailbox(dovecot: DovecotServer) -> Iterator[TestMailbox]:
    yield from _make_mailbox(dovecot, "repairs")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def smtp_settings(smtp_server: SmtpServer) -> SmtpSettings:
    return SmtpSettings(
        host=smtp_server.host,
        port=smtp_server.port,
        from_address=f"Riverside Homes <{LANDLORD_ADDRESS}>",
        starttls=False,
        timeout_seconds=10,
    )


def imap_settings(dovecot: DovecotServer, mailbox: TestMailbox, **overrides: object) -> ImapSettings:
    values: dict[str, object] = {
        "host": dovecot.host,
        "port": dovecot.port,
        "user": mailbox.user,
        "password": dovecot.password,
        "folder": mailbox.folder,
        "ssl": False,
        "hint": "complaints",
    }
    values.update(overrides)
    return ImapSettings(**values)  # type: ignore[arg-type]


@contextlib.contextmanager
def runtime_with(
    tmp_path: Path, database_url: str, model_dir: Path, **overrides: object
) -> Iterator[Runtime]:
    """A runtime with in-process jobs, installed as the process's runtime while in use."""
    settings = make_settings(
        tmp_path, database_url, model_dir=model_dir, landlord_addresses=[LANDLORD_DOMAIN], **overrides
    )
    runtime = Runtime.build(settings)
    try:
        with use_runtime(runtime):
            yield runtime
    finally:
        runtime.database.dispose()


@pytest.fixture
def smtp_runtime(
    tmp_path: Path, database_url: str, trained_model_dir: Path, smtp_server: SmtpServer
) -> Iterator[Runtime]:
    """The real pipeline on each database backend, acknowledging through aiosmtpd."""
    with runtime_with(tmp_path, database_url, trained_model_dir, smtp=smtp_settings(smtp_server)) as runtime:
        yield runtime


@pytest.fixture
def email_runtime(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    dovecot: DovecotServer,
    mailbox: TestMailbox,
    smtp_server: SmtpServer,
) -> Iterator[Runtime]:
    """The real pipeline on each database backend, reading the test folder and acknowledging
    through aiosmtpd."""
    with runtime_with(
        tmp_path,
        database_url,
        trained_model_dir,
        imap=imap_settings(dovecot, mailbox),
        smtp=smtp_settings(smtp_server),
    ) as runtime:
        yield runtime
