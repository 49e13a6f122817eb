"""One path from any channel to a stored, classified, routed, acknowledged item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from intake import jobs
from intake.acknowledgements import send_acknowledgement
from intake.pipeline import ingest, process_item
from intake.references import REFERENCE_PATTERN
from models import Acknowledgement, AuditEntry, ClassificationRun, Deadline, Item, RawMessage
from tests.factories import email_message, sms_message

LEAK_COMPLAINT = (
    "This is the third time I have reported the leak under my bath. Your contractor promised to come back "
    "on Monday with the part and nobody turned up. Water is now coming through the kitchen ceiling."
)


def _count(runtime, model) -> int:  # type: ignore[no-untyped-def]
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_email_becomes_a_classified_routed_acknowledged_item(runtime) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message(LEAK_COMPLAINT, subject="Leak again"))

    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.status == "processed"
        assert item.type == "complaint"
        assert REFERENCE_PATTERN.fullmatch(item.reference)
        assert item.reference.startswith(f"REF-{item.received_at.year}-")  # neutral: the type may be corrected
        assert item.queue in ("complaints", "triage_review")
        assert item.complaint_stage == "stage_1"
        assert item.model_version
        deadlines = session.scalars(select(Deadline).where(Deadline.item_id == item.id)).all()
        assert {d.kind for d in deadlines} >= {"acknowledge", "respond"}
        acknowledgement = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == item.id)
        ).one()
        assert acknowledgement.status == "sent"
        assert acknowledgement.recipient == "resident@example.com"
        assert item.reference in acknowledgement.body_text
        assert session.scalars(select(RawMessage).where(RawMessage.item_id == item.id)).one().content
        assert session.scalar(select(func.count()).select_from(ClassificationRun)) == 1
    sent_files = list((runtime.settings.outbox_dir / "email").iterdir())
    assert len(sent_files) == 1


def test_the_same_external_id_never_makes_a_second_item(runtime) -> None:  # type: ignore[no-untyped-def]
    message = email_message(
        "Please can someone fix my gate, the latch is broken.", external_id="<same@example.com>"
    )
    first = ingest(runtime, message)
    second = ingest(runtime, email_message("different text, same id", external_id="<same@example.com>"))

    assert first.created and not second.created
    assert second.item_id == first.item_id
    assert _count(runtime, Item) == 1
    assert _count(runtime, Acknowledgement) == 1


def test_processing_again_never_acknowledges_twice(runtime) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message("Can I have a copy of my tenancy agreement please?"))
    process_item(runtime, result.item_id)
    process_item(runtime, result.item_id)
    with runtime.database.session() as session:
        acknowledgement = session.scalars(select(Acknowledgement)).one()
    send_acknowledgement(runtime, acknowledgement.id)

    assert _count(runtime, Acknowledgement) == 1
    assert len(list((runtime.settings.outbox_dir / "email").iterdir())) == 1


def test_an_empty_message_is_kept_and_sent_to_review(runtime) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, sms_message("   "))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.queue == "triage_review"
        assert item.review_reason


def test_an_unreadable_message_is_stored_for_review_with_the_reason(runtime) -> None:  # type: ignore[no-untyped-def]
    message = email_message("", parse_error="broken MIME structure: missing boundary")
    result = ingest(runtime, message)
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.queue == "triage_review"
        assert "missing boundary" in item.review_reason
        assert item.reference.startswith("REF-")


def test_an_automatic_reply_is_stored_but_not_acknowledged(runtime) -> None:  # type: ignore[no-untyped-def]
    message = email_message(
        "I am out of the office until Monday.", suppress_acknowledgement_reason="auto-reply"
    )
    result = ingest(runtime, message)
    with runtime.database.session() as session:
        acknowledgement = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == result.item_id)
        ).one()
    assert acknowledgement.status == "suppressed"
    assert not (runtime.settings.outbox_dir / "email").exists()


def test_a_gas_smell_goes_to_the_emergency_queue_with_a_make_safe_deadline(runtime) -> None:  # type: ignore[no-untyped-def]
    received = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    result = ingest(runtime, sms_message("strong smell of gas in my kitchen", received_at=received))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.queue == "emergency"
        assert "urgent_safety" in item.flags
        make_safe = [d for d in item.deadlines if d.kind == "make_safe"]
        assert make_safe and make_safe[0].due_at == received + timedelta(hours=24)


def test_every_step_is_on_the_audit_log(runtime) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message("Can you tell me when the bins are collected?"))
    with runtime.database.session() as session:
        actions = [
            a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.item_id == result.item_id).order_by(AuditEntry.id))
        ]
    assert actions[:1] == ["received"]
    assert {"processed", "acknowledgement_planned", "acknowledgement_sent"} <= set(actions)


def test_the_audit_log_refuses_edits(runtime) -> None:  # type: ignore[no-untyped-def]
    import pytest
    from sqlalchemy import delete
    from sqlalchemy.exc import DBAPIError

    ingest(runtime, email_message("hello, what are your opening hours?"))
    with pytest.raises(DBAPIError), runtime.database.session() as session:
        session.execute(delete(AuditEntry))


def test_the_sweep_processes_items_left_unprocessed(runtime) -> None:  # type: ignore[no-untyped-def]
    from intake.pipeline import _store

    with runtime.database.session() as session:
        item = _store(session, email_message("What day is the communal cleaning?"))
        item.updated_at = datetime.now(UTC) - timedelta(minutes=10)
        item_id = item.id
    jobs.sweep()
    with runtime.database.session() as session:
        assert session.get(Item, item_id).status == "processed"


def test_an_acknowledgement_interrupted_while_sending_is_not_sent_again(runtime) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message("Please send me a rent statement."))
    with runtime.database.session() as session:
        acknowledgement = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == result.item_id)
        ).one()
        acknowledgement.status = "sending"
        acknowledgement.sending_started_at = datetime.now(UTC) - timedelta(minutes=10)
        acknowledgement_id = acknowledgement.id
    jobs.sweep()
    send_acknowledgement(runtime, acknowledgement_id)
    with runtime.database.session() as session:
        assert session.get(Acknowledgement, acknowledgement_id).status == "unknown"
    assert len(list((runtime.settings.outbox_dir / "email").iterdir())) == 1


def test_a_sender_gets_no_more_than_the_daily_number_of_acknowledgements(runtime) -> None:  # type: ignore[no-untyped-def]
    for number in range(runtime.settings.max_acknowledgements_per_sender_per_day + 2):
        ingest(runtime, email_message(f"Please send me a copy of letter {number}.", sender="busy@example.com"))
    with runtime.database.session() as session:
        statuses = list(session.scalars(select(Acknowledgement.status).order_by(Acknowledgement.id)))
    assert statuses.count("sent") == runtime.settings.max_acknowledgements_per_sender_per_day
    assert statuses[-2:] == ["suppressed", "suppressed"]


def test_a_councillors_office_declared_on_the_form_routes_to_formal_enquiries(runtime) -> None:  # type: ignore[no-untyped-def]
    from channels.message import InboundMessage

    message = InboundMessage(
        channel="web_form",
        external_id="form-elected-1",
        body="Please can you tell me the date of the next tenants meeting at Elm Court.",
        sender_address="office@example.org",
        sender_email="office@example.org",
        sender_role="elected_office",
    )
    result = ingest(runtime, message)
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert "designated_person" in item.flags
        assert item.queue in ("formal_enquiries", "triage_review")
        assert "elected_office" in item.routing_reason
