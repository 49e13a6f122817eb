"""Acknowledgements sent through a Microsoft 365 mailbox: SMTP AUTH XOAUTH2 with a client-credentials
token, against aiosmtpd with an XOAUTH2 authenticator that asks the local token service (as Exchange
asks Entra ID) whether the token may send as that mailbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest

from channels.base import OutboundAcknowledgement, TemporarySendError
from channels.email_oauth2 import SMTP_ROLE
from channels.email_smtp import SmtpSender, SmtpSettingsError
from channels.registry import resolve_sender
from intake.settings import EmailSettings, Settings, SmtpSettings
from tests.channels.mail_servers import OAuth2SmtpServer
from tests.channels.oauth2_support import Registration, register_app
from tests.channels.token_service import TokenService

SENDER = "complaints@riverside-homes.example"


@pytest.fixture
def smtp_app(token_service: TokenService) -> Registration:
    """An app with SMTP.SendAsApp consented and access to the complaints mailbox."""
    return register_app(token_service, mailbox=SENDER)


@pytest.fixture
def oauth2_smtp(token_service: TokenService) -> Iterator[OAuth2SmtpServer]:
    def may_send(user: str, token: str) -> bool:
        answer = token_service.introspect(token, role=SMTP_ROLE)
        return bool(answer["active"]) and answer["username"] == user

    server = OAuth2SmtpServer(may_send)
    server.start()
    yield server
    server.stop()


def _sender(server: OAuth2SmtpServer, registration: Registration) -> SmtpSender:
    return SmtpSender(
        host=server.host,
        port=server.port,
        starttls=False,
        from_address=f"Riverside Homes <{SENDER}>",
        token_provider=registration.provider(),
        timeout=10,
    )


def _acknowledgement(recipient: str = "pat.resident@example.net") -> OutboundAcknowledgement:
    return OutboundAcknowledgement(
        acknowledgement_id=1,
        reference="CMP-2026-000042",
        recipient=recipient,
        subject="We have received your complaint",
        body_text="Thank you. Your reference is CMP-2026-000042.",
        written_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    )


def test_an_acknowledgement_is_sent_as_the_shared_mailbox_with_an_xoauth2_token(
    oauth2_smtp: OAuth2SmtpServer, smtp_app: Registration
) -> None:
    result = _sender(oauth2_smtp, smtp_app).send(_acknowledgement())

    assert oauth2_smtp.logins == [SENDER]  # signed in as the From mailbox, no user name configured
    [mail] = oauth2_smtp.received
    message = BytesParser(policy=default).parsebytes(mail.content)
    assert message["Message-ID"] == result.provider_id and mail.mail_from == SENDER
    assert mail.recipients == ["pat.resident@example.net"]


def test_a_revoked_token_is_replaced_once_and_the_acknowledgement_still_goes(
    oauth2_smtp: OAuth2SmtpServer, smtp_app: Registration, token_service: TokenService
) -> None:
    sender = _sender(oauth2_smtp, smtp_app)
    sender.send(_acknowledgement())
    token_service.revoke_all()
    before = token_service.token_requests

    sender.send(_acknowledgement("second.resident@example.net"))

    assert len(oauth2_smtp.received) == 2 and oauth2_smtp.handler.refusals == 1
    assert token_service.token_requests == before + 1


def test_without_smtp_send_as_app_consent_the_send_is_retried_later_with_the_cause_named(
    oauth2_smtp: OAuth2SmtpServer, token_service: TokenService
) -> None:
    imap_only = register_app(token_service, mailbox=SENDER, roles=["IMAP.AccessAsApp"])

    with pytest.raises(TemporarySendError, match="consent-not-granted") as raised:
        _sender(oauth2_smtp, imap_only).send(_acknowledgement())

    assert "SMTP.SendAsApp" in str(raised.value)
    assert oauth2_smtp.received == []


def test_an_app_without_access_to_the_mailbox_is_named_with_the_smtp_auth_step(
    oauth2_smtp: OAuth2SmtpServer, token_service: TokenService
) -> None:
    other = register_app(token_service, mailbox="repairs@riverside-homes.example")

    with pytest.raises(TemporarySendError, match="no-mailbox-access") as raised:
        _sender(oauth2_smtp, other).send(_acknowledgement())

    assert "SmtpClientAuthenticationDisabled" in str(raised.value)


def test_the_registry_builds_an_oauth2_sender_from_settings(
    oauth2_smtp: OAuth2SmtpServer, smtp_app: Registration, tmp_path: Path
) -> None:
    app = smtp_app.app
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        outbox_dir=tmp_path,
        smtp=SmtpSettings(host=oauth2_smtp.host, port=oauth2_smtp.port, starttls=False, from_address=SENDER),
        email=EmailSettings(
            smtp_auth="oauth2",
            tenant_id=app.tenant,
            client_id=app.client_id,
            client_secret=app.secret,  # type: ignore[arg-type]
            token_endpoint=smtp_app.service.token_endpoint(app.tenant),
        ),
    )

    sender = resolve_sender("email", settings)
    sender.send(_acknowledgement())
    assert isinstance(sender, SmtpSender) and oauth2_smtp.logins == [SENDER]
    sender.check()  # `intake email check`: signs in, sends nothing
    assert len(oauth2_smtp.received) == 1 and oauth2_smtp.logins == [SENDER, SENDER]


def test_oauth2_sending_without_the_app_settings_says_which_are_missing(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        smtp=SmtpSettings(host="smtp.office365.com", from_address=SENDER),
        email=EmailSettings(smtp_auth="oauth2", tenant_id="contoso"),
    )
    with pytest.raises(SmtpSettingsError, match="INTAKE_EMAIL_CLIENT_ID, INTAKE_EMAIL_CLIENT_SECRET \\(or _CERTIFICATE_PATH\\)"):
        SmtpSender.from_settings(settings)
