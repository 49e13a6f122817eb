"""Email acknowledgements through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from channels.base import OutboundAcknowledgement, PermanentSendError, TemporarySendError
from channels.email_smtp import SmtpSender
from channels.registry import resolve_sender
from intake.acknowledgements import send_acknowledgement
from intake.pipeline import ingest
from intake.runtime import Runtime
from intake.settings import Settings
from models import Acknowledgement
from tests.channels.conftest import LANDLORD_ADDRESS, smtp_settings
from tests.channels.mail_servers import SmtpCapture, SmtpServer, free_port
from tests.factories import email_message


def _sender(server: SmtpServer, port: int | None = None) -> SmtpSender:
    return SmtpSender(
        host=server.host,
        port=port or server.port,
        from_address=f"Riverside Homes <{LANDLORD_ADDRESS}>",
        starttls=False,
        timeout=5,
    )


WRITTEN_AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # not the machine's time: the caller's clock


def _acknowledgement(**changes: object) -> OutboundAcknowledgement:
    values: dict[str, object] = {
        "acknowledgement_id": 7,
        "reference": "CMP-2026-000123",
        "recipient": "pat.resident@example.net",
        "subject": "[CMP-2026-000123] We have received your complaint",
        "body_text": "Dear Pat,\n\nYour reference is CMP-2026-000123. We will reply by Monday 16 November 2026.",
        "written_at": WRITTEN_AT,
        "body_html": "<p>Dear Pat,</p><p>Your reference is <b>CMP-2026-000123</b>.</p>",
        "in_reply_to": "<original.1@mail.example.net>",
        "references": ("<older.0@mail.example.net>", "<original.1@mail.example.net>"),
    }
    values.update(changes)
    return OutboundAcknowledgement(**values)  # type: ignore[arg-type]


def _received(server: SmtpServer, index: int = -1) -> EmailMessage:
    return BytesParser(policy=default).parsebytes(server.received[index].content)  # type: ignore[return-value]


def test_an_acknowledgement_arrives_as_plain_and_html_and_says_it_is_automatic(
    smtp_server: SmtpServer,
) -> None:
    result = _sender(smtp_server).send(_acknowledgement())

    envelope = smtp_server.received[0]
    message = _received(smtp_server)
    assert (envelope.mail_from, envelope.recipients) == (LANDLORD_ADDRESS, ["pat.resident@example.net"])
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert "CMP-2026-000123" in message.get_body(("plain",)).get_content()
    assert "<b>CMP-2026-000123</b>" in message.get_body(("html",)).get_content()
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] == "<original.1@mail.example.net>"
    assert message["References"] == "<older.0@mail.example.net> <original.1@mail.example.net>"
    assert "[CMP-2026-000123]" in message["Subject"]
    assert message["From"].addresses[0].addr_spec == LANDLORD_ADDRESS
    assert result.provider_id == message["Message-ID"]
    assert result.provider_id.startswith("<") and result.provider_id.endswith("@riverside-homes.example>")


def test_the_date_header_is_when_intake_wrote_the_letter_by_its_clock(smtp_server: SmtpServer) -> None:
    _sender(smtp_server).send(_acknowledgement())

    assert _received(smtp_server)["Date"].datetime == WRITTEN_AT


def test_the_reference_is_put_in_a_subject_that_lacks_it(smtp_server: SmtpServer) -> None:
    _sender(smtp_server).send(_acknowledgement(subject="Thank you for your message", body_html=None))

    message = _received(smtp_server)
    assert message["Subject"] == "[CMP-2026-000123] Thank you for your message"
    assert message.get_body(("html",)) is not None  # an HTML part is made from the text


def test_a_newline_in_a_subject_cannot_add_a_header(smtp_server: SmtpServer) -> None:
    _sender(smtp_server).send(_acknowledgement(subject="Leak\r\nBcc: victim@example.org\nX-Injected: yes"))

    message = _received(smtp_server)
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert smtp_server.received[0].recipients == ["pat.resident@example.net"]
    assert "\n" not in str(message["Subject"])


def test_a_malformed_message_id_from_outside_is_left_out(smtp_server: SmtpServer) -> None:
    _sender(smtp_server).send(
        _acknowledgement(in_reply_to="<ok@example.net>\r\nBcc: victim@example.org", references=("not an id",))
    )

    message = _received(smtp_server)
    assert message["In-Reply-To"] is None and message["References"] is None and message["Bcc"] is None


@pytest.mark.parametrize(
    "recipient",
    ["pat@example.net\r\nBcc: victim@example.org", "a@example.net, b@example.net", "not an address"],
)
def test_a_recipient_that_is_not_one_plain_address_is_refused_for_good(
    smtp_server: SmtpServer, recipient: str
) -> None:
    with pytest.raises(PermanentSendError) as refused:
        _sender(smtp_server).send(_acknowledgement(recipient=recipient))

    assert refused.value.code == "invalid-recipient"
    assert smtp_server.received == []


def test_a_4xx_refusal_is_temporary(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_next("451 4.3.0 Mailbox busy, try again later")

    with pytest.raises(TemporarySendError, match="451"):
        _sender(smtp_server).send(_acknowledgement())


def test_a_5xx_refusal_is_permanent_and_carries_the_code(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_next("550 5.1.1 No such user here")

    with pytest.raises(PermanentSendError) as refused:
        _sender(smtp_server).send(_acknowledgement())

    assert refused.value.code == "550"


def test_a_server_that_does_not_answer_is_temporary(smtp_server: SmtpServer) -> None:
    with pytest.raises(TemporarySendError, match="could not talk to the SMTP server"):
        _sender(smtp_server, port=free_port()).send(_acknowledgement())


def test_the_registry_builds_the_smtp_sender_from_settings(smtp_server: SmtpServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, outbox_dir=tmp_path, smtp=smtp_settings(smtp_server))  # type: ignore[call-arg]

    sender = resolve_sender("email", settings)

    assert isinstance(sender, SmtpSender) and sender.name == "email"
    assert sender.send(_acknowledgement()).provider_id == _received(smtp_server)["Message-ID"]


# --- through the pipeline ------------------------------------------------------------------


def _only_acknowledgement(runtime: Runtime) -> Acknowledgement:
    with runtime.database.session() as session:
        return session.scalars(select(Acknowledgement)).one()


LEAK = (
    "This is the third time I have reported the leak under my bath. Your contractor promised to come back "
    "on Monday and nobody turned up."
)


def test_a_temporary_failure_is_recorded_and_the_retry_sends_it(
    smtp_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse_next("421 4.7.0 Too many connections, try later")

    ingest(
        smtp_runtime,
        email_message(LEAK, sender="pat.resident@example.net", external_id="<leak.1@example.net>"),
    )

    waiting = _only_acknowledgement(smtp_runtime)
    assert (waiting.status, waiting.attempts) == ("retry", 1)
    assert "421" in (waiting.last_error or "")
    assert waiting.next_attempt_at is not None and smtp_server.received == []
    with smtp_runtime.database.session() as session:
        session.execute(update(Acknowledgement).values(next_attempt_at=datetime.now(UTC)))

    send_acknowledgement(smtp_runtime, waiting.id)

    sent = _only_acknowledgement(smtp_runtime)
    message = _received(smtp_server)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, None)
    assert sent.provider_id == message["Message-ID"]
    assert message["In-Reply-To"] == "<leak.1@example.net>"
    assert len(smtp_server.received) == 1


def test_a_permanent_failure_is_recorded_as_failed_and_not_retried(
    smtp_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse_next("550 5.1.1 User unknown")

    ingest(smtp_runtime, email_message(LEAK, sender="gone@example.net"))

    failed = _only_acknowledgement(smtp_runtime)
    assert failed.status == "failed"
    assert "550" in (failed.last_error or "")
    assert smtp_server.received == []


# --- a batch over one connection ------------------------------------------------------------------


@dataclass
class _ConnectionsCapture(SmtpCapture):
    """Also notes which connection (the client's address and port) each message came over."""

    peers: list[object] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def counting_server() -> Iterator[tuple[SmtpServer, _ConnectionsCapture]]:
    server = SmtpServer()
    capture = _ConnectionsCapture()
    server.controller.loop.close()  # the controller made for the plain handler is replaced unused
    server.handler, server.controller = capture, Controller(capture, hostname=server.host, port=server.port)
    server.start()
    yield server, capture
    server.stop()


def test_a_batch_goes_over_one_connection_and_single_sends_over_their_own(
    counting_server: tuple[SmtpServer, _ConnectionsCapture],
) -> None:
    server, capture = counting_server
    sender = _sender(server)
    with sender.batch():
        for number in range(3):
            sender.send(_acknowledgement(acknowledgement_id=number, recipient=f"r{number}@example.net"))
    sender.send(_acknowledgement(acknowledgement_id=9))
    sender.send(_acknowledgement(acknowledgement_id=10))

    assert len(server.received) == 5
    assert len(set(capture.peers[:3])) == 1  # the batch: one connection
    assert len(set(capture.peers)) == 3  # and each single send its own


def test_a_failure_in_a_batch_drops_its_connection_and_the_next_message_still_goes(
    counting_server: tuple[SmtpServer, _ConnectionsCapture],
) -> None:
    server, capture = counting_server
    sender = _sender(server)
    server.refuse_next("451 4.3.0 try later")
    with sender.batch():
        with pytest.raises(TemporarySendError):
            sender.send(_acknowledgement(acknowledgement_id=1, recipient="first@example.net"))
        sender.send(_acknowledgement(acknowledgement_id=2, recipient="second@example.net"))
        sender.send(_acknowledgement(acknowledgement_id=3, recipient="third@example.net"))

    assert [mail.recipients for mail in server.received] == [["second@example.net"], ["third@example.net"]]
    assert len(set(capture.peers)) == 1  # a fresh connection after the failure, shared by the rest


def test_the_worker_sends_a_batch_of_emails_over_one_connection(
    runtime: Runtime, counting_server: tuple[SmtpServer, _ConnectionsCapture]
) -> None:
    from intake.acknowledgements import send_acknowledgements
    from intake.queueing import SEND_ACKNOWLEDGEMENT, InProcessJobQueue, _import_function

    server, capture = counting_server
    runtime._senders["email"] = _sender(server)  # type: ignore[assignment]
    real_jobs = runtime.jobs
    runtime.jobs = InProcessJobQueue(  # their send jobs lost: planned, waiting
        resolve=lambda name: (lambda *args: None) if name == SEND_ACKNOWLEDGEMENT else _import_function(name)
    )
    for number in range(3):
        ingest(runtime, email_message("The boiler is broken again", sender=f"tenant{number}@example.net"))
    runtime.jobs = real_jobs
    with runtime.database.session() as session:
        ids = list(session.scalars(select(Acknowledgement.id)))

    batch = send_acknowledgements(runtime, ids)

    assert batch.failed == {} and len(server.received) == 3
    assert len(set(capture.peers)) == 1
    with runtime.database.session() as session:
        assert {row.status for row in session.scalars(select(Acknowledgement))} == {"sent"}
