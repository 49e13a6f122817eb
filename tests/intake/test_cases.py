"""Follow-ups join their case; a dissatisfied chaser turns a service request into a complaint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from intake import cases
from intake.errors import InvalidTransition
from intake.pipeline import ingest
from models import Acknowledgement, AuditEntry, Item
from tests.factories import email_message, sms_message

FIRST_REPAIR = "hi can someone come and look at my back door it wont lock properly. flat 3 ash court"
CHASER = "this is the 3rd time i have texted about my back door, nobody has come and nobody rings back. not good enough"


def test_a_text_from_the_same_number_within_the_window_joins_the_open_case(runtime) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    first = ingest(runtime, sms_message(FIRST_REPAIR, received_at=now - timedelta(days=2)))
    follow_up = ingest(runtime, sms_message("any news on when someone can come?", received_at=now))
    with runtime.database.session() as session:
        item = session.get(Item, follow_up.item_id)
        assert item.case_id == first.item_id
        acknowledgements = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == item.id)
        ).all()
        assert [a.status for a in acknowledgements] == ["suppressed"]  # one acknowledgement per case


def test_a_text_after_the_window_opens_a_new_case(runtime) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    ingest(runtime, sms_message(FIRST_REPAIR, received_at=now - timedelta(days=40)))
    later = ingest(runtime, sms_message("can i get a new key fob please", received_at=now))
    with runtime.database.session() as session:
        assert session.get(Item, later.item_id).case_id is None


def test_a_dissatisfied_chaser_turns_a_service_request_into_a_complaint(runtime) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    first = ingest(runtime, sms_message(FIRST_REPAIR, received_at=now - timedelta(days=5)))
    with runtime.database.session() as session:
        assert session.get(Item, first.item_id).type == "service_request"
    ingest(runtime, sms_message(CHASER, received_at=now))
    with runtime.database.session() as session:
        root = session.get(Item, first.item_id)
        assert root.type == "complaint"
        assert root.complaint_stage == "stage_1"
        assert root.queue == "complaints"
        purposes = sorted(a.purpose for a in root.acknowledgements)
        assert purposes == ["complaint", "received"]
        assert session.scalars(
            select(AuditEntry).where(AuditEntry.item_id == root.id, AuditEntry.action == "became_complaint")
        ).one()


def test_a_reply_quoting_its_own_reference_joins_the_case(runtime) -> None:  # type: ignore[no-untyped-def]
    first = ingest(
        runtime,
        email_message("Please can you repair the fence panel that blew down.", sender="a@example.com"),
    )
    with runtime.database.session() as session:
        reference = session.get(Item, first.item_id).reference
    reply = ingest(
        runtime,
        email_message("Any news on this?", sender="a@example.com", subject=f"Re: [{reference}] fence"),
    )
    with runtime.database.session() as session:
        assert session.get(Item, reply.item_id).case_id == first.item_id


def test_a_stranger_quoting_someone_elses_reference_gets_a_new_item_held_for_review(runtime) -> None:  # type: ignore[no-untyped-def]
    first = ingest(
        runtime,
        email_message("Please can you repair the fence panel that blew down.", sender="a@example.com"),
    )
    with runtime.database.session() as session:
        reference = session.get(Item, first.item_id).reference
    stranger = ingest(
        runtime,
        email_message("What is happening with this?", sender="b@example.com", subject=f"[{reference}]"),
    )
    with runtime.database.session() as session:
        item = session.get(Item, stranger.item_id)
        assert item.case_id is None
        assert item.queue == "triage_review"
        assert reference in item.review_reason


def test_escalating_a_complaint_moves_it_to_the_next_stage_and_recomputes_deadlines(runtime) -> None:  # type: ignore[no-untyped-def]
    result = ingest(
        runtime,
        email_message(
            "I am making a formal complaint. The repairs team missed three appointments and nobody called to say."
        ),
    )
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        item.type = "complaint"
        cases.escalate(runtime, session, item, actor="manager1", reason="resident unhappy with stage 1 reply")
        assert item.complaint_stage == "stage_2"
        current = cases.current_deadlines(item)
        assert current and all(d.stage in ("stage_2", None) for d in current)


def test_a_closed_case_cannot_be_escalated(runtime) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message("The caretaker was very rude to me this morning and swore at me."))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        item.type = "complaint"
        cases.close(runtime, session, item, actor="manager1", outcome="upheld")
        with pytest.raises(InvalidTransition):
            cases.escalate(runtime, session, item, actor="manager1")
