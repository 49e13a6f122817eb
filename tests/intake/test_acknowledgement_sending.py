"""Sending an acknowledgement when the provider keeps failing, fails oddly, or the job is lost.

The provider is the real twilio client against the local stand-in, except where the point is an
error no real provider library raises on cue (an unexpected exception): there a sender of our own
protocol raises it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from channels.base import OutboundAcknowledgement, SendResult, TemporarySendError
from intake import acknowledgements, audit, jobs
from intake.acknowledgements import (
    MAX_SEND_ATTEMPTS,
    SQLITE_PER_TRANSACTION,
    send_acknowledgement,
    send_acknowledgements,
)
from intake.clock import FixedClock
from intake.pipeline import ingest
from intake.queueing import SEND_ACKNOWLEDGEMENT, InProcessJobQueue, _import_function
from intake.runtime import Runtime
from models import Acknowledgement, AuditEntry, Deadline
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import new_mobile
from tests.factories import email_message, sms_message
from tests.query_plans import plan_of_last_statement
from triage_rules.acknowledgement_wording import date_in_words

COMPLAINT = "I want to make a formal complaint. The repairs team missed three appointments and nobody called."
REPAIR = "Hello, the light in the communal stairwell at 12 Birch Court has been out since Friday, please fix"


def _only_acknowledgement(runtime: Runtime) -> Acknowledgement:
    with runtime.database.session() as session:
        return session.scalars(select(Acknowledgement)).one()


def _make_due_now(runtime: Runtime) -> None:
    """The back-off has passed (time is data in the row: move it, not the clock)."""
    with runtime.database.session() as session:
        session.execute(update(Acknowledgement).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))


def test_a_send_that_keeps_failing_gives_up_after_seven_attempts(
    sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    assert MAX_SEND_ATTEMPTS == 7
    phone = new_mobile()
    twilio_standin.fail_next(100, status=503)
    ingest(sms_runtime, sms_message(REPAIR, phone=phone))  # attempt 1, from the in-process job
    acknowledgement_id = _only_acknowledgement(sms_runtime).id
    for attempt in range(2, MAX_SEND_ATTEMPTS + 1):
        assert _only_acknowledgement(sms_runtime).status == "retry"
        _make_due_now(sms_runtime)
        with pytest.raises(TemporarySendError):
            send_acknowledgement(sms_runtime, acknowledgement_id)
        assert _only_acknowledgement(sms_runtime).attempts == attempt

    gave_up = _only_acknowledgement(sms_runtime)
    assert (gave_up.status, gave_up.attempts) == ("failed", MAX_SEND_ATTEMPTS)
    assert "503" in (gave_up.last_error or "")
    _make_due_now(sms_runtime)
    send_acknowledgement(sms_runtime, acknowledgement_id)  # a late retry of a given-up send does nothing
    assert len(twilio_standin.requests) == MAX_SEND_ATTEMPTS
    with sms_runtime.database.session() as session:
        failures = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "acknowledgement_failed").order_by(AuditEntry.id)
        ).all()
    assert [entry.details["status"] for entry in failures] == ["retry"] * 6 + ["failed"]


def test_a_retry_that_runs_before_its_time_sends_nothing(
    sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    twilio_standin.fail_next(1, status=503)
    ingest(sms_runtime, sms_message(REPAIR, phone=new_mobile()))
    waiting = _only_acknowledgement(sms_runtime)
    assert (waiting.status, waiting.attempts) == ("retry", 1)
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > datetime.now(UTC) + timedelta(seconds=5)

    send_acknowledgement(sms_runtime, waiting.id)  # e.g. rq ran the job early, or twice

    still = _only_acknowledgement(sms_runtime)
    assert (still.status, still.attempts, still.next_attempt_at) == ("retry", 1, waiting.next_attempt_at)
    assert len(twilio_standin.requests) == 1

    _make_due_now(sms_runtime)
    send_acknowledgement(sms_runtime, waiting.id)
    assert (_only_acknowledgement(sms_runtime).status, len(twilio_standin.requests)) == ("sent", 2)


class _BrokenSender:
    """An email sender whose library fails in a way nobody classified (a bug, a new exception type)."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, acknowledgement: OutboundAcknowledgement) -> SendResult:
        self.calls += 1
        raise RuntimeError("the mail library fell over")


def test_an_unexpected_send_error_is_kept_retried_and_reported_as_a_failed_job(
    runtime: Runtime, job_failures: list[logging.LogRecord]
) -> None:
    broken = _BrokenSender()
    runtime._senders["email"] = broken  # type: ignore[assignment]

    result = ingest(runtime, email_message(REPAIR, sender="pat@example.com"))

    assert result.created  # the message is stored whatever the sending does
    acknowledgement = _only_acknowledgement(runtime)
    assert (acknowledgement.status, acknowledgement.attempts) == ("retry", 1)
    assert acknowledgement.last_error == "RuntimeError: the mail library fell over"
    assert acknowledgement.next_attempt_at is not None
    assert broken.calls == 1
    # Not swallowed: the in-process queue reports the failed job (and this test claims it).
    assert [record.job_id for record in job_failures] == [f"acknowledge-{acknowledgement.id}"]  # type: ignore[attr-defined]
    assert isinstance(runtime.jobs, InProcessJobQueue)
    assert [type(error) for _, error in runtime.jobs.failures] == [RuntimeError]


def test_a_failed_job_fails_the_test_that_ran_it(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    pytester.makeconftest("pytest_plugins = ['tests.conftest']")
    pytester.makepyfile(
        """
        from intake.queueing import InProcessJobQueue

        def boom():
            raise ValueError("a bug in a job")

        def test_runs_a_failing_job():
            InProcessJobQueue(resolve=lambda name: boom).enqueue_named("x", job_id="x-1")
        """
    )
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    outcome.assert_outcomes(passed=1, errors=1)
    outcome.stdout.fnmatch_lines(["*1 job(s) failed in this test*", "*x-1: ValueError('a bug in a job')*"])


def test_the_sweep_sends_an_acknowledgement_whose_job_was_lost(runtime: Runtime) -> None:
    # A queue that loses every send job (as Redis restarted empty would), then the real one.
    def losing(name: str):  # type: ignore[no-untyped-def]
        return (lambda *args: None) if name == SEND_ACKNOWLEDGEMENT else _import_function(name)

    real_jobs = runtime.jobs
    runtime.jobs = InProcessJobQueue(resolve=losing)
    ingest(runtime, email_message(REPAIR, sender="sam@example.com"))
    runtime.jobs = real_jobs
    assert _only_acknowledgement(runtime).status == "pending"
    assert jobs.sweep()["acknowledgements"] == 0  # only pending for a moment: its job may still run

    with runtime.database.session() as session:  # half a minute later
        session.execute(update(Acknowledgement).values(created_at=datetime.now(UTC) - timedelta(seconds=31)))
    assert jobs.sweep()["acknowledgements"] == 1
    assert jobs.sweep()["acknowledgements"] == 0

    sent = _only_acknowledgement(runtime)
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert len(list((runtime.settings.outbox_dir / "email").iterdir())) == 1


# --- a provider that took the message but whose answer was lost ---------------------------------


def _mobile_acknowledgement(to: str) -> OutboundAcknowledgement:
    return OutboundAcknowledgement(acknowledgement_id=1, reference="SR-2026-000001", recipient=to,
                                   subject=None, body_text="We have your message.", body_html=None,
                                   written_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


def test_twilio_taking_a_text_but_timing_out_marks_it_unknown_and_never_texts_twice(
    sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    from channels.sms_twilio import TwilioSmsSender

    settings = sms_runtime.settings.model_copy(
        update={"twilio": sms_runtime.settings.twilio.model_copy(update={"timeout_seconds": 0.5})}
    )
    sms_runtime._senders["sms"] = TwilioSmsSender.from_settings(settings)
    twilio_standin.stall_next(1, seconds=2.0)  # answers 201, but after the client gave up
    phone = new_mobile()

    ingest(sms_runtime, sms_message(REPAIR, phone=phone))

    twilio_standin.wait_for_messages(1, timeout=60)
    unknown = _only_acknowledgement(sms_runtime)
    assert (unknown.status, unknown.attempts, unknown.next_attempt_at) == ("unknown", 1, None)
    assert "check before sending again" in (unknown.last_error or "")
    with sms_runtime.database.session() as session:
        unknown_audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "acknowledgement_unknown")).all()
        session.execute(update(Acknowledgement).values(created_at=datetime.now(UTC) - timedelta(hours=1)))
    assert len(unknown_audit) == 1
    assert jobs.sweep()["acknowledgements"] == 0
    assert len(twilio_standin.messages_to(phone)) == 1


def test_twilio_unreachable_before_sending_is_still_retried(tmp_path: Path) -> None:
    from channels.sms_twilio import TwilioSmsSender
    from intake.settings import Settings, TwilioSettings
    from tests.channels.mail_servers import free_port
    from tests.channels.twilio_support import ACCOUNT_SID, AUTH_TOKEN, LANDLORD_NUMBER, PUBLIC_BASE_URL

    settings = Settings(
        _env_file=None, environment="test", public_base_url=PUBLIC_BASE_URL, outbox_dir=tmp_path,  # type: ignore[call-arg]
        twilio=TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number=LANDLORD_NUMBER,
                              api_base_url=f"http://127.0.0.1:{free_port()}", timeout_seconds=30),
    )
    with pytest.raises(TemporarySendError, match="did not answer"):
        TwilioSmsSender.from_settings(settings).send(_mobile_acknowledgement(new_mobile()))


class _TakesThenHangsUp:
    """An SMTP server that stores the message and drops the connection instead of answering 250."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received.append(bytes(envelope.content))
        server.transport.close()
        return "250 OK"


def test_an_smtp_server_that_takes_the_message_then_hangs_up_leaves_it_unknown(runtime: Runtime) -> None:
    from aiosmtpd.controller import Controller

    from channels.email_smtp import SmtpSender
    from intake.settings import SmtpSettings
    from tests.channels.mail_servers import free_port

    handler = _TakesThenHangsUp()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = runtime.settings.model_copy(update={"smtp": SmtpSettings(
            host="127.0.0.1", port=port, starttls=False, from_address="Riverside Homes <contact@landlord.example>",
            timeout_seconds=30)})
        runtime._senders["email"] = SmtpSender.from_settings(settings)
        ingest(runtime, email_message(REPAIR, sender="lee@example.com"))
    finally:
        controller.stop()
    unknown = _only_acknowledgement(runtime)
    assert (unknown.status, unknown.attempts) == ("unknown", 1)
    assert len(handler.received) == 1


# --- rendered once, sent as rendered unless the case changed meanwhile ----------------------------


def _plan_without_sending(runtime: Runtime, message) -> int:  # type: ignore[no-untyped-def]
    """Ingest `message` with its send job lost, so its acknowledgement is planned and waits."""

    def losing(name: str):  # type: ignore[no-untyped-def]
        return (lambda *args: None) if name == SEND_ACKNOWLEDGEMENT else _import_function(name)

    real_jobs = runtime.jobs
    runtime.jobs = InProcessJobQueue(resolve=losing)
    try:
        ingest(runtime, message)
    finally:
        runtime.jobs = real_jobs
    planned = _only_acknowledgement(runtime)
    assert planned.status == "pending" and planned.rendered_for
    return planned.id


def test_an_unchanged_case_is_sent_in_the_wording_rendered_when_it_was_planned(
    sms_runtime: Runtime, twilio_standin: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = new_mobile()
    acknowledgement_id = _plan_without_sending(sms_runtime, sms_message(REPAIR, phone=phone))
    planned = _only_acknowledgement(sms_runtime)
    renders: list[str] = []
    real_render = acknowledgements.render_acknowledgement
    monkeypatch.setattr(
        acknowledgements, "render_acknowledgement", lambda **kw: renders.append(kw["purpose"]) or real_render(**kw)
    )

    send_acknowledgement(sms_runtime, acknowledgement_id)

    sent = _only_acknowledgement(sms_runtime)
    assert sent.status == "sent" and renders == []  # nothing changed: not rendered again
    assert [m.form["Body"] for m in twilio_standin.messages_to(phone)] == [planned.body_text]
    assert sent.rendered_for == planned.rendered_for


def test_a_date_that_moved_after_planning_is_the_date_the_letter_gives(runtime: Runtime) -> None:
    acknowledgement_id = _plan_without_sending(runtime, email_message(COMPLAINT, sender="moved@example.com"))
    with runtime.database.session() as session:
        respond = session.scalars(
            select(Deadline).where(Deadline.kind == "respond", Deadline.superseded_at.is_(None))
        ).one()
        planned_words, later = date_in_words(respond.due_at), respond.due_at + timedelta(days=7)
        respond.due_at = later  # as a recomputation or an extension would
    assert planned_words in _only_acknowledgement(runtime).body_text

    send_acknowledgement(runtime, acknowledgement_id)

    sent = _only_acknowledgement(runtime)
    assert sent.status == "sent"
    assert date_in_words(later) in sent.body_text and planned_words not in sent.body_text
    assert date_in_words(later) in (runtime.settings.outbox_dir / "email" / f"{sent.id:08d}.txt").read_text()


def test_a_date_that_passed_between_planning_and_sending_is_not_promised(runtime: Runtime) -> None:
    clock = FixedClock(datetime.now(UTC))
    runtime.clock = clock
    acknowledgement_id = _plan_without_sending(runtime, email_message(COMPLAINT, sender="slow@example.com"))
    with runtime.database.session() as session:
        acknowledge = session.scalars(select(Deadline).where(Deadline.kind == "acknowledge")).one()
        due = acknowledge.due_at
    assert "has already passed" not in _only_acknowledgement(runtime).body_text

    clock.move_to(due + timedelta(minutes=1))  # e.g. the queue was down for days
    send_acknowledgement(runtime, acknowledgement_id)

    sent = _only_acknowledgement(runtime)
    assert sent.status == "sent" and "has already passed" in sent.body_text


# How long the Twilio stand-in takes to answer in the batch tests below.
STALL_SECONDS = 3.0


def test_a_batch_of_texts_goes_to_twilio_together_not_one_after_another(
    sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    ids = [_plan_one_text(sms_runtime) for _ in range(4)]
    # Each answer takes three seconds, as a slow network would: sent one after another, the last
    # would be asked 9 s after the first. (One second was too little on two cores beside a CPU hog:
    # the four requests, concurrent, still took 1.9 s to leave.)
    twilio_standin.stall_next(4, seconds=STALL_SECONDS)

    batch = send_acknowledgements(sms_runtime, ids)

    assert batch.failed == {}
    arrivals = sorted(request.at for request in twilio_standin.messages)
    assert len(arrivals) == 4
    assert arrivals[-1] - arrivals[0] < STALL_SECONDS  # all four were asked before the first was answered
    with sms_runtime.database.session() as session:
        rows = session.scalars(select(Acknowledgement).where(Acknowledgement.id.in_(ids))).all()
    assert sorted(row.status for row in rows) == ["sent"] * 4
    assert len({row.provider_id for row in rows}) == 4  # each row keeps its own message's sid
    with sms_runtime.database.session() as session:
        sent_entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "acknowledgement_sent")).all()
        assert sorted(entry.details["acknowledgement_id"] for entry in sent_entries) == sorted(ids)
        assert audit.verify(session).intact  # the batch's entries, written in one flush, chain as any others


def test_a_batch_larger_than_sqlites_short_transactions_still_goes_to_twilio_at_once(
    sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    # SQLite marks and records them SQLITE_PER_TRANSACTION at a time; that must not make a batch
    # wait for one round trip to Twilio per transaction.
    count = min(sms_runtime.settings.twilio.concurrent_sends, 2 * SQLITE_PER_TRANSACTION)
    ids = [_plan_one_text(sms_runtime) for _ in range(count)]
    twilio_standin.stall_next(count, seconds=STALL_SECONDS)

    batch = send_acknowledgements(sms_runtime, ids)

    assert batch.failed == {}
    arrivals = sorted(request.at for request in twilio_standin.messages)
    assert len(arrivals) == count
    assert arrivals[-1] - arrivals[0] < STALL_SECONDS  # every one asked before the first was answered
    with sms_runtime.database.session() as session:
        rows = session.scalars(select(Acknowledgement).where(Acknowledgement.id.in_(ids))).all()
    assert [row.status for row in rows] == ["sent"] * count


def _plan_one_text(runtime: Runtime) -> int:
    def losing(name: str):  # type: ignore[no-untyped-def]
        return (lambda *args: None) if name == SEND_ACKNOWLEDGEMENT else _import_function(name)

    real_jobs = runtime.jobs
    runtime.jobs = InProcessJobQueue(resolve=losing)
    try:
        result = ingest(runtime, sms_message(REPAIR, phone=new_mobile()))
    finally:
        runtime.jobs = real_jobs
    with runtime.database.session() as session:
        return session.scalars(select(Acknowledgement.id).where(Acknowledgement.item_id == result.item_id)).one()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # the plan is PostgreSQL's
def test_what_a_batchs_recipients_were_sent_today_is_read_through_the_recipient_index(runtime: Runtime) -> None:
    # Counted for every batch: read by scanning every acknowledgement, it slowed down as the day filled up.
    plan = plan_of_last_statement(
        runtime,
        lambda session: acknowledgements._RecipientStates.load(
            runtime, session, [(None, new_mobile()), ("a@example.org", None)]
        ),
    )
    assert "ix_acknowledgements_recipient_created_at" in plan, plan
