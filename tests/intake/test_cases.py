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
from tests.query_plans import plan_of_last_statement

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


def _texts_from(number: str, *, at: datetime) -> list[Item]:
    return [
        Item(channel="sms", sender_address=number, received_at=at, body=body, thread_keys=[], details={})
        for body in (FIRST_REPAIR, CHASER)
    ]


# The plan is SQLite's, which keeps no statistics and so decides by the query's shape alone.
# PostgreSQL's on a test's empty table says nothing; with a landlord's statistics it takes the
# number's index, which is a handful of rows, by itself.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_look_up_of_a_batchs_earlier_texts_reads_the_numbers_index_not_every_processed_item(runtime) -> None:  # type: ignore[no-untyped-def]
    # Read through the status index, the look-up went through every processed item there was: on
    # SQLite, which keeps no statistics, 4-6 ms a batch at 6,000 items, and growing with the table.
    batch = _texts_from("+447911123456", at=runtime.clock.now())
    plan = plan_of_last_statement(runtime, lambda session: cases.phone_senders_to_look_up(runtime, session, batch))
    assert "ix_items_sender_address" in plan and "ix_items_status_updated" not in plan, plan


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # as above
def test_a_texts_look_up_of_the_case_it_follows_up_reads_the_numbers_index(runtime) -> None:  # type: ignore[no-untyped-def]
    [text, _] = _texts_from("+447911123457", at=runtime.clock.now())
    plan = plan_of_last_statement(
        runtime,
        lambda session: cases.link_to_case(runtime, session, text),
        containing="ORDER BY items.received_at DESC",
    )
    assert "ix_items_sender_address" in plan and "ix_items_status_updated" not in plan, plan
