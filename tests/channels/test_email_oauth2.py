"""Microsoft 365 sign-in for the IMAP poller, offline: a real Dovecot checking tokens (its oauth2
passdb asks the local token service), tokens fetched by Authlib's client-credentials flow from
that service, and the real pipeline behind the poller.

What an IT team sees when it goes wrong is tested as much as when it goes right: each cause named.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from channels.email_imap import Mailbox, PollReport
from channels.email_oauth2 import (
    AppNotFound,
    CertificateUnusable,
    ConsentNotGranted,
    NoMailboxAccess,
    OAuth2Credentials,
    TokenEndpointUnreachable,
    TokenProvider,
    WrongSecret,
)
from intake.email_mailboxes import mailboxes_from_settings, poller_for
from intake.runtime import Runtime
from intake.settings import EmailSettings, ImapSettings
from models import ChannelCursor, Item
from tests.channels.conftest import TestMailbox, runtime_with
from tests.channels.email_builders import build_email
from tests.channels.mail_servers import DovecotServer, free_port
from tests.channels.oauth2_support import Registration, register_app
from tests.channels.token_service import TokenService

pytestmark = pytest.mark.dovecot


def _m365_settings(
    dovecot: DovecotServer, mailbox: TestMailbox, registration: Registration
) -> dict[str, object]:
    """Settings as docs/channels/microsoft-365.md has them, pointed at the local servers."""
    app = registration.app
    return {
        "imap": ImapSettings(
            host=dovecot.host, port=dovecot.port, ssl=False, user=mailbox.user, folder=mailbox.folder, hint="complaints"
        ),
        "email": EmailSettings(
            imap_auth="oauth2",
            tenant_id=app.tenant,
            client_id=app.client_id,
            client_secret=app.secret,  # type: ignore[arg-type]
            token_endpoint=registration.service.token_endpoint(app.tenant),
        ),
    }


@pytest.fixture
def registration(token_service: TokenService, m365_mailbox: TestMailbox) -> Registration:
    """The app registration given FullAccess to the shared mailbox, with admin consent."""
    return register_app(token_service, mailbox=m365_mailbox.user)


@pytest.fixture
def m365_runtime(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    oauth2_dovecot: DovecotServer,
    m365_mailbox: TestMailbox,
    registration: Registration,
) -> Iterator[Runtime]:
    with runtime_with(
        tmp_path, database_url, trained_model_dir, **_m365_settings(oauth2_dovecot, m365_mailbox, registration)
    ) as runtime:
        yield runtime


def _items(runtime: Runtime) -> list[Item]:
    with runtime.database.session() as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


def _poll_once(runtime: Runtime, mailbox: Mailbox) -> PollReport:
    with poller_for(runtime, mailbox) as poller:
        return poller.poll()


def _complaint(number: int = 1) -> bytes:
    return build_email(
        f"The lift in block {number} has been broken for three weeks and my mother cannot get out.",
        sender=f"Resident {number} <resident{number}@example.net>",
        subject="Lift still broken",
    )


# --- signing in and reading ----------------------------------------------------------------


def test_the_poller_reads_a_shared_mailbox_with_a_client_credentials_token_over_xoauth2(
    m365_runtime: Runtime, m365_mailbox: TestMailbox, oauth2_dovecot: DovecotServer, token_service: TokenService
) -> None:
    m365_mailbox.append(_complaint())
    requests_before = token_service.token_requests
    [mailbox] = mailboxes_from_settings(m365_runtime.settings)

    report = _poll_once(m365_runtime, mailbox)

    assert (report.error, report.fetched, report.created) == (None, 1, 1)
    assert mailbox.auth == "oauth2" and token_service.token_requests == requests_before + 1
    [item] = _items(m365_runtime)
    assert item.mailbox_hint == "complaints" and "lift" in item.body.lower()
    assert "method=XOAUTH2" in oauth2_dovecot.log() and f"user=<{m365_mailbox.user}>" in oauth2_dovecot.log()
    assert m365_mailbox.seen() == {m365_mailbox.uids()[0]: True}


def test_oauthbearer_works_as_well(
    m365_runtime: Runtime, m365_mailbox: TestMailbox, oauth2_dovecot: DovecotServer
) -> None:
    m365_mailbox.append(_complaint())
    [mailbox] = mailboxes_from_settings(m365_runtime.settings)
    bearer = Mailbox(**{**mailbox.__dict__, "sasl_mechanism": "OAUTHBEARER"})

    assert _poll_once(m365_runtime, bearer).created == 1
    assert "method=OAUTHBEARER" in oauth2_dovecot.log()


def test_one_cached_token_serves_several_sign_ins(
    m365_runtime: Runtime, m365_mailbox: TestMailbox, token_service: TokenService
) -> None:
    [mailbox] = mailboxes_from_settings(m365_runtime.settings)
    before = token_service.token_requests
    with poller_for(m365_runtime, mailbox) as poller:
        poller.poll()
        poller.close()  # a new connection, a new sign-in: the cached token is used again
        m365_mailbox.append(_complaint())
        assert poller.poll().created == 1
    assert token_service.token_requests == before + 1


def test_a_token_is_fetched_again_shortly_before_it_expires(registration: Registration) -> None:
    now = [1_000_000.0]
    provider = TokenProvider(registration.credentials, clock=lambda: now[0], timeout=10)
    before = registration.service.token_requests

    first = provider.token()
    now[0] += 3600 - 301  # more than the five-minute margin left: kept
    assert provider.token() == first
    now[0] += 2  # less than five minutes left: replaced before it can run out mid-poll
    second = provider.token()

    assert second != first and registration.service.token_requests == before + 2


def test_a_revoked_token_is_replaced_once_and_the_poll_goes_on(
    m365_runtime: Runtime, m365_mailbox: TestMailbox, token_service: TokenService
) -> None:
    [mailbox] = mailboxes_from_settings(m365_runtime.settings)
    with poller_for(m365_runtime, mailbox) as poller:
        poller.poll()
        poller.close()
        token_service.revoke_all()  # the server no longer accepts the cached token, still "valid" here
        m365_mailbox.append(_complaint())
        before = token_service.token_requests

        report = poller.poll()

    assert (report.error, report.created) == (None, 1)
    assert token_service.token_requests == before + 1  # one new token, not one per attempt


def test_a_token_expired_by_the_servers_clock_is_replaced_and_a_failed_replacement_is_named(
    m365_runtime: Runtime, m365_mailbox: TestMailbox, token_service: TokenService, registration: Registration
) -> None:
    [mailbox] = mailboxes_from_settings(m365_runtime.settings)
    real_clock = token_service.clock
    try:
        with poller_for(m365_runtime, mailbox) as poller:
            poller.poll()
            poller.close()
            # Two hours on for the server: the cached token has expired there, not by our clock.
            token_service.clock = lambda: real_clock() + 7200
            m365_mailbox.append(_complaint(1))
            assert poller.poll().created == 1  # a new token, valid by the server's clock

            poller.close()
            token_service.clock = lambda: real_clock() + 4 * 7200
            registration.app.secret = "rotated-by-it"  # the secret we hold was replaced meanwhile
            m365_mailbox.append(_complaint(2))
            with pytest.raises(WrongSecret):
                poller.poll()
    finally:
        token_service.clock = real_clock
    with m365_runtime.database.session() as session:
        cursor = session.scalars(select(ChannelCursor)).one()
        assert cursor.last_error_code == "wrong-secret" and cursor.waiting is None  # not reached: unknown
    assert len(_items(m365_runtime)) == 1


# --- what goes wrong, named ----------------------------------------------------------------


def _report_for(runtime: Runtime, mailbox: Mailbox) -> PollReport:
    from intake.email_mailboxes import poll_all

    [report] = poll_all(runtime)
    assert report.mailbox == mailbox.key
    return report


def test_consent_withdrawn_after_a_token_was_issued_is_reported_as_consent_not_granted(
    m365_runtime: Runtime, registration: Registration, token_service: TokenService
) -> None:
    [mailbox] = mailboxes_from_settings(m365_runtime.settings)
    with poller_for(m365_runtime, mailbox) as poller:
        poller.poll()
        poller.close()
        registration.app.roles = []  # an admin removed IMAP.AccessAsApp: new tokens carry no role
        token_service.revoke_all()
        with pytest.raises(ConsentNotGranted, match="IMAP.AccessAsApp") as raised:
            poller.poll()
    assert "grant admin consent" in str(raised.value)
    with m365_runtime.database.session() as session:
        cursor = session.scalars(select(ChannelCursor)).one()
        assert cursor.last_error_code == "consent-not-granted" and cursor.last_success_at is not None


def test_a_token_for_an_app_without_access_to_the_mailbox_is_reported_as_no_mailbox_access(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    oauth2_dovecot: DovecotServer,
    m365_mailbox: TestMailbox,
    token_service: TokenService,
) -> None:
    elsewhere = register_app(token_service, mailbox="repairs")  # FullAccess to another mailbox only
    with runtime_with(
        tmp_path, database_url, trained_model_dir, **_m365_settings(oauth2_dovecot, m365_mailbox, elsewhere)
    ) as runtime:
        [mailbox] = mailboxes_from_settings(runtime.settings)
        with poller_for(runtime, mailbox) as poller, pytest.raises(NoMailboxAccess) as raised:
            poller.poll()
    assert "Add-MailboxPermission" in str(raised.value) and m365_mailbox.user in str(raised.value)


@pytest.mark.parametrize(
    ("change", "error", "named", "says"),
    [
        ({"client_secret": "not-the-secret"}, WrongSecret, "wrong-secret", "AADSTS7000215"),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, AppNotFound, "wrong-tenant-or-client-id", "AADSTS700016"),
    ],
)
def test_token_endpoint_refusals_are_named_with_microsofts_code(
    registration: Registration, change: dict[str, str], error: type[Exception], named: str, says: str
) -> None:
    with pytest.raises(error) as raised:
        registration.provider(**change).token()
    assert raised.value.code == named  # type: ignore[attr-defined]
    assert says in str(raised.value)
    assert registration.app.secret not in str(raised.value) and "not-the-secret" not in str(raised.value)


def test_consent_refused_at_the_token_endpoint_is_named_too(registration: Registration) -> None:
    from channels.email_oauth2 import _named_token_error

    refusal = _named_token_error(
        "invalid_grant",
        "AADSTS65001: The user or administrator has not consented to use the application.",
        OAuth2Credentials("t", "c", "s"),
    )
    assert isinstance(refusal, ConsentNotGranted) and "Grant admin consent" in str(refusal)


def test_an_unreachable_token_endpoint_is_named(registration: Registration) -> None:
    closed = f"http://127.0.0.1:{free_port()}/{registration.app.tenant}/oauth2/v2.0/token"

    with pytest.raises(TokenEndpointUnreachable, match="127.0.0.1") as raised:
        registration.provider(token_endpoint=closed).token()
    assert raised.value.code == "token-endpoint-unreachable"


def test_a_token_endpoint_answering_503_is_named_unreachable(
    registration: Registration, token_service: TokenService
) -> None:
    token_service.outage = True
    try:
        with pytest.raises(TokenEndpointUnreachable, match="HTTP 503"):
            registration.provider().token()
    finally:
        token_service.outage = False


def test_the_default_token_endpoint_is_microsofts_for_the_tenant(registration: Registration) -> None:
    credentials = registration.credentials_with(token_endpoint="")
    assert credentials.endpoint == f"https://login.microsoftonline.com/{registration.app.tenant}/oauth2/v2.0/token"
    assert credentials.scope == "https://outlook.office365.com/.default"


def test_tokens_and_secrets_never_reach_the_logs_or_reprs(
    m365_runtime: Runtime, m365_mailbox: TestMailbox, registration: Registration, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    m365_mailbox.append(_complaint())
    [mailbox] = mailboxes_from_settings(m365_runtime.settings)
    with poller_for(m365_runtime, mailbox) as poller:
        poller.poll()
        token = mailbox.token_provider.token()  # type: ignore[union-attr]

    said = caplog.text + repr(mailbox) + repr(mailbox.token_provider) + repr(m365_runtime.settings)
    assert token not in said and registration.app.secret not in said


# --- a certificate instead of a secret -----------------------------------------------------


def _certificate_pem(common_name: str = "intake-mail-reader") -> tuple[str, x509.Certificate]:
    """A self-signed certificate and its key, as `New-SelfSignedCertificate` or openssl would make."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem + certificate.public_bytes(serialization.Encoding.PEM).decode(), certificate


def test_an_app_can_prove_itself_with_a_certificate_instead_of_a_secret(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    oauth2_dovecot: DovecotServer,
    m365_mailbox: TestMailbox,
    token_service: TokenService,
) -> None:
    pem, certificate = _certificate_pem()
    registration = register_app(token_service, mailbox=m365_mailbox.user)
    registration.app.certificate = certificate  # uploaded to the app registration
    certificate_file = tmp_path / "intake-mail-reader.pem"
    certificate_file.write_text(pem)
    settings = _m365_settings(oauth2_dovecot, m365_mailbox, registration)
    settings["email"] = settings["email"].model_copy(  # type: ignore[attr-defined]
        update={"client_secret": None, "certificate_path": certificate_file}
    )
    m365_mailbox.append(_complaint())

    with runtime_with(tmp_path, database_url, trained_model_dir, **settings) as runtime:
        [mailbox] = mailboxes_from_settings(runtime.settings)
        report = _poll_once(runtime, mailbox)

    assert (report.error, report.created) == (None, 1)
    assert mailbox.token_provider is not None and mailbox.token_provider.credentials.client_secret is None


def test_a_certificate_the_app_does_not_know_is_named_like_a_wrong_secret(registration: Registration) -> None:
    _, uploaded = _certificate_pem("uploaded")
    other_pem, _ = _certificate_pem("a different one")
    registration.app.certificate = uploaded

    with pytest.raises(WrongSecret, match="AADSTS700027"):
        TokenProvider(
            OAuth2Credentials(
                tenant_id=registration.app.tenant,
                client_id=registration.app.client_id,
                certificate_pem=other_pem,
                token_endpoint=registration.service.token_endpoint(registration.app.tenant),
            )
        ).token()


def test_a_certificate_file_without_its_key_is_named(registration: Registration) -> None:
    _, certificate = _certificate_pem()
    only_the_certificate = certificate.public_bytes(serialization.Encoding.PEM).decode()

    with pytest.raises(CertificateUnusable, match="private key"):
        TokenProvider(
            OAuth2Credentials(
                tenant_id=registration.app.tenant,
                client_id=registration.app.client_id,
                certificate_pem=only_the_certificate,
                token_endpoint=registration.service.token_endpoint(registration.app.tenant),
            )
        ).token()
