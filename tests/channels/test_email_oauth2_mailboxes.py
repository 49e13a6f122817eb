"""Several mailboxes at once, each with its own sign-in: one that cannot sign in is reported — on
the Settings page, in /healthz and by `intake email check` — while the others keep being read."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from intake.app import create_app
from intake.cli import app as cli
from intake.email_mailboxes import mailbox_states, mailboxes_from_settings, poll_all, start_polling_threads
from intake.errors import ConfigurationError
from intake.runtime import Runtime
from intake.settings import EmailSettings, ImapSettings, Settings
from models import Item
from tests.channels.conftest import TestMailbox, runtime_with
from tests.channels.email_builders import build_email
from tests.channels.mail_servers import DovecotServer
from tests.channels.oauth2_support import register_app
from tests.channels.token_service import TokenService
from tests.web.conftest import signed_in

pytestmark = pytest.mark.dovecot


@pytest.fixture
def two_mailboxes(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    oauth2_dovecot: DovecotServer,
    m365_mailbox: TestMailbox,
    m365_repairs_mailbox: TestMailbox,
    token_service: TokenService,
) -> Iterator[Runtime]:
    """complaints (INTAKE_IMAP_* with the landlord's app, working) and repairs (INTAKE_EMAIL_MAILBOXES
    with its own app registration, whose secret was mistyped)."""
    good = register_app(token_service, mailbox=m365_mailbox.user)
    repairs_app = register_app(token_service, mailbox=m365_repairs_mailbox.user)
    endpoint = token_service.token_endpoint
    with runtime_with(
        tmp_path,
        database_url,
        trained_model_dir,
        imap=ImapSettings(
            host=oauth2_dovecot.host,
            port=oauth2_dovecot.port,
            ssl=False,
            user=m365_mailbox.user,
            folder=m365_mailbox.folder,
            hint="complaints",
        ),
        email=EmailSettings(
            imap_auth="oauth2",
            tenant_id=good.app.tenant,
            client_id=good.app.client_id,
            client_secret=good.app.secret,  # type: ignore[arg-type]
            token_endpoint=endpoint(good.app.tenant),
            mailboxes=[
                {  # type: ignore[list-item]
                    "user": m365_repairs_mailbox.user,
                    "folder": m365_repairs_mailbox.folder,
                    "hint": "repairs",
                    "auth": "oauth2",
                    "oauth2": {
                        "tenant_id": repairs_app.app.tenant,
                        "client_id": repairs_app.app.client_id,
                        "client_secret": "the-secret-id-not-its-value",
                        "token_endpoint": endpoint(repairs_app.app.tenant),
                    },
                }
            ],
        ),
    ) as runtime:
        yield runtime


def _items(runtime: Runtime) -> list[Item]:
    with runtime.database.session() as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


def _complaint() -> bytes:
    return build_email(
        "Nobody has come about the damp in the bedroom, it is now on my son's clothes.",
        sender="Sam Resident <sam.resident@example.net>",
        subject="Damp",
    )


def test_a_mailbox_with_a_wrong_secret_is_reported_and_the_other_is_still_read(
    two_mailboxes: Runtime, m365_mailbox: TestMailbox, m365_repairs_mailbox: TestMailbox
) -> None:
    m365_mailbox.append(_complaint())
    m365_repairs_mailbox.append(build_email("The gate latch is broken.", sender="gate@example.net"))

    complaints, repairs = poll_all(two_mailboxes)

    assert (complaints.error, complaints.created) == (None, 1)
    assert repairs.error_code == "wrong-secret" and "AADSTS7000215" in (repairs.error or "")
    assert "the-secret-id-not-its-value" not in (repairs.error or "")
    assert [item.mailbox_hint for item in _items(two_mailboxes)] == ["complaints"]
    states = {state.key: state for state in mailbox_states(two_mailboxes)}
    assert states[complaints.mailbox].status == "ok" and states[complaints.mailbox].waiting == 0
    assert states[repairs.mailbox].status == "error: wrong-secret"
    assert states[repairs.mailbox].waiting is None  # never reached: unknown, not "0"


def test_polling_for_ever_keeps_reading_one_mailbox_while_the_other_cannot_sign_in(
    two_mailboxes: Runtime, m365_mailbox: TestMailbox, token_service: TokenService
) -> None:
    stop = threading.Event()
    threads = start_polling_threads(two_mailboxes, interval=2, stop=stop)
    try:
        for _ in range(2):
            m365_mailbox.append(_complaint())
        deadline = time.monotonic() + 60
        while len(_items(two_mailboxes)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        while (
            not any(state.last_error for state in mailbox_states(two_mailboxes)) and time.monotonic() < deadline
        ):
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(_items(two_mailboxes)) == 2
    assert [state.status for state in mailbox_states(two_mailboxes)] == ["ok", "error: wrong-secret"]
    assert not any(thread.is_alive() for thread in threads)


def test_the_settings_page_and_healthz_show_each_mailboxs_state(
    two_mailboxes: Runtime, m365_mailbox: TestMailbox
) -> None:
    m365_mailbox.append(_complaint())
    complaints, repairs = poll_all(two_mailboxes)

    with TestClient(create_app(two_mailboxes), base_url="http://127.0.0.1") as client:
        health = client.get("/healthz")
        page = signed_in(client, two_mailboxes, "ada", "admin").get("/staff/settings")

    assert health.status_code == 200 and health.json()["status"] == "ok"  # one mailbox's problem
    details = health.json()["mailboxes"]
    assert details[complaints.mailbox] == "ok"
    assert details[repairs.mailbox].startswith("wrong-secret: the token endpoint refused the client secret")
    assert page.status_code == 200
    assert f"Mailbox {complaints.mailbox}" in page.text and "signs in with OAuth2" in page.text
    assert "0 message(s) waiting" in page.text
    assert "ERROR wrong-secret" in page.text and "Certificates &amp; secrets" in page.text


def test_intake_email_check_signs_in_everywhere_and_names_what_is_wrong(
    two_mailboxes: Runtime, m365_mailbox: TestMailbox
) -> None:
    m365_mailbox.append(_complaint())

    result = CliRunner().invoke(cli, ["email", "check"])

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.endswith("(oauth2): ok, 1 messages, 1 unseen") and "/intake/" in line for line in lines)
    assert any("/repairs/" in line and "failed: wrong-secret" in line for line in lines)
    assert "SMTP: not configured" in result.output
    assert _items(two_mailboxes) == [] and m365_mailbox.seen() == {m365_mailbox.uids()[0]: False}


def test_password_and_oauth2_mailboxes_live_side_by_side(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    oauth2_dovecot: DovecotServer,
    m365_mailbox: TestMailbox,
    m365_repairs_mailbox: TestMailbox,
    token_service: TokenService,
) -> None:
    app = register_app(token_service, mailbox=m365_repairs_mailbox.user)
    with runtime_with(
        tmp_path,
        database_url,
        trained_model_dir,
        imap=ImapSettings(
            host=oauth2_dovecot.host,
            port=oauth2_dovecot.port,
            ssl=False,
            user=m365_mailbox.user,
            password=oauth2_dovecot.password,  # type: ignore[arg-type]
            folder=m365_mailbox.folder,
        ),
        email=EmailSettings(
            tenant_id=app.app.tenant,
            client_id=app.app.client_id,
            client_secret=app.app.secret,  # type: ignore[arg-type]
            token_endpoint=token_service.token_endpoint(app.app.tenant),
            mailboxes=[
                {"user": m365_repairs_mailbox.user, "folder": m365_repairs_mailbox.folder, "auth": "oauth2"}  # type: ignore[list-item]
            ],
        ),
    ) as runtime:
        m365_mailbox.append(_complaint())
        m365_repairs_mailbox.append(build_email("The gate latch is broken.", sender="gate@example.net"))

        reports = poll_all(runtime)

        assert [(report.error, report.created) for report in reports] == [(None, 1), (None, 1)]
        assert [mailbox.auth for mailbox in mailboxes_from_settings(runtime.settings)] == ["password", "oauth2"]
    log = oauth2_dovecot.log()
    assert "method=PLAIN" in log and "method=XOAUTH2" in log


# --- settings ------------------------------------------------------------------------------


def test_the_environment_describes_microsoft_365_mailboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "INTAKE_IMAP_HOST": "outlook.office365.com",
        "INTAKE_IMAP_USER": "complaints@riverside-homes.example",
        "INTAKE_IMAP_HINT": "complaints",
        "INTAKE_EMAIL_IMAP_AUTH": "oauth2",
        "INTAKE_EMAIL_TENANT_ID": "contoso.onmicrosoft.com",
        "INTAKE_EMAIL_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "INTAKE_EMAIL_CLIENT_SECRET": "s3cret~value",
        "INTAKE_EMAIL_MAILBOXES": '[{"user": "repairs@riverside-homes.example", "auth": "oauth2", "hint": "repairs"},'
        ' {"user": "mp@riverside-homes.example", "host": "imap.other.example", "password": "pw", "hint": "formal"}]',
    }.items():
        monkeypatch.setenv(name, value)

    complaints, repairs, mp = mailboxes_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]

    assert complaints.key == "outlook.office365.com/complaints@riverside-homes.example/INBOX"
    assert repairs.key == "outlook.office365.com/repairs@riverside-homes.example/INBOX"
    assert complaints.token_provider is repairs.token_provider  # one app, one cached token
    assert complaints.token_provider is not None
    assert complaints.token_provider.credentials.endpoint == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert (mp.auth, mp.host, mp.port, mp.hint) == ("password", "imap.other.example", 993, "formal")
    assert "s3cret~value" not in repr([complaints, repairs, mp])


@pytest.mark.parametrize(
    ("email", "complaint"),
    [
        ({"imap_auth": "oauth2", "tenant_id": "t"}, "INTAKE_EMAIL_CLIENT_ID, INTAKE_EMAIL_CLIENT_SECRET \\(or _CERTIFICATE_PATH\\)"),
        ({"mailboxes": [{"user": "r@x.example"}]}, r"INTAKE_EMAIL_MAILBOXES\[1\] \(r@x.example\) signs in with a password"),
    ],
)
def test_half_set_up_oauth2_settings_say_what_is_missing(email: dict[str, object], complaint: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        imap=ImapSettings(host="outlook.office365.com", user="c@x.example", password="pw"),  # type: ignore[arg-type]
        email=EmailSettings(**email),  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigurationError, match=complaint):
        mailboxes_from_settings(settings)
