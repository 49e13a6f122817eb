"""A message joins a case only when its sender is a party to it; staff can unlink, split and merge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from channels.message import InboundMessage
from intake import case_links, deadlines
from intake.corrections import correct_item
from intake.errors import InvalidTransition
from intake.pipeline import ingest
from intake.web.queue_view import QueueFilters, queue_page
from models import Acknowledgement, AuditEntry, Item
from tests.factories import email_message, sms_message

SHARED = "+447911123456"
COMPLIMENT = "Caller: I just wanted to say thank you, the plumber who came yesterday was brilliant and so polite."
COUNCILLOR = (
    "This is Councillor Amira Shah's office. Constituent Mrs Joan Ellery and her two children at 4 Brook Row "
    "have black mould on every bedroom wall and the baby is coughing. Please inspect the damp urgently."
)


def _call(body: str, *, phone: str, name: str | None, external_id: str) -> InboundMessage:
    return InboundMessage(
        channel="call_transcript", external_id=external_id, body=body, sender_address=phone,
        sender_phone=phone, sender_name=name,
    )


def test_a_shared_phone_alone_does_not_put_another_persons_report_in_a_compliment(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    compliment = ingest(runtime, _call(COMPLIMENT, phone=SHARED, name="Ray Dobbs", external_id="call-1"))
    clock.shift(timedelta(days=2))
    report = ingest(runtime, sms_message(COUNCILLOR, phone=SHARED))
    with runtime.database.session() as session:
        item = session.get(Item, report.item_id)
        assert session.get(Item, compliment.item_id).type == "compliment"
        assert item.case_id is None  # its own case, not hidden in the compliment
        assert item.queue != "compliments"
        assert item.next_due_at is not None  # it has deadlines of its own
        sent = session.scalars(select(Acknowledgement).where(Acknowledgement.item_id == item.id)).one()
        assert sent.status != "suppressed"


def test_a_complaint_from_the_same_person_is_never_hidden_in_their_compliment(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    ingest(runtime, sms_message("thank you so much for fixing the lift so quickly, really appreciated", phone=SHARED))
    clock.shift(timedelta(days=1))
    complaint = ingest(
        runtime,
        sms_message("i want to make a formal complaint, the lift is broken again and nobody has come in 2 weeks",
                    phone=SHARED),
    )
    with runtime.database.session() as session:
        item = session.get(Item, complaint.item_id)
        assert item.type == "complaint"
        assert item.case_id is None and item.complaint_stage is not None
        assert item.details.get("related_case_id") is not None


def test_a_follow_up_from_the_same_person_still_joins_their_case(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    first = ingest(runtime, sms_message("hi can someone fix my back door it wont lock. flat 3 ash court", phone=SHARED))
    clock.shift(timedelta(days=1))
    chaser = ingest(runtime, sms_message("any news on when someone can come about the door?", phone=SHARED))
    with runtime.database.session() as session:
        assert session.get(Item, chaser.item_id).case_id == first.item_id


def test_search_reads_the_text_of_follow_ups(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    first = ingest(runtime, sms_message("hi can someone fix my back door it wont lock. flat 3 ash court", phone=SHARED))
    clock.shift(timedelta(hours=3))
    ingest(runtime, sms_message("its for my mum Philippa Quested, she cant get out", phone=SHARED))
    with runtime.database.session() as session:
        page = queue_page(session, QueueFilters(search="Quested"), now=session.get(Item, first.item_id).received_at)
        assert [item.id for item in page.items] == [first.item_id]


def test_staff_unlink_a_follow_up_and_it_becomes_a_case_with_its_own_dates_and_letter(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    first = ingest(runtime, sms_message("hi can someone fix my back door it wont lock. flat 3 ash court", phone=SHARED))
    clock.shift(timedelta(hours=2))
    other = ingest(runtime, sms_message("can you tell me when the bins are collected on our road?", phone=SHARED))
    with runtime.database.session() as session:
        item = session.get(Item, other.item_id)
        assert item.case_id == first.item_id
        new_root = case_links.unlink(runtime, session, item, actor="tina", reason="a different person on a shared phone")
        assert new_root.case_id is None and new_root.reference
        letters = session.scalars(select(Acknowledgement).where(Acknowledgement.item_id == item.id)).all()
        assert [a.status for a in letters] in (["pending"], ["suppressed"]) or letters
        assert session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case_split", AuditEntry.item_id == first.item_id)
        ).first() is not None
        assert new_root.next_due_at == deadlines.next_due(new_root)


def test_staff_merge_two_cases_and_a_complaint_cannot_be_merged_into_a_compliment(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    repair = ingest(runtime, email_message("Please repair the fence panel that blew down.", sender="a@example.com"))
    again = ingest(runtime, email_message("The fence panel at number 4 is down, please fix it", sender="b@example.com"))
    thanks = ingest(runtime, email_message("Thank you so much to the caretaker, lovely job", sender="c@example.com"))
    complaint = ingest(
        runtime,
        email_message("I am making a formal complaint: nobody has come about my fence in a month.", sender="d@example.com"),
    )
    with runtime.database.session() as session:
        source, into = session.get(Item, again.item_id), session.get(Item, repair.item_id)
        case_links.merge(runtime, session, source, into, actor="manager", reason="same fence")
        assert source.case_id == into.id and source.next_due_at is None
        assert not deadlines.current(source)
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "case_merged")).all()
        assert {entry.item_id for entry in audited} >= {into.id, source.id}
        with pytest.raises(InvalidTransition):
            case_links.merge(
                runtime, session, session.get(Item, complaint.item_id), session.get(Item, thanks.item_id),
                actor="manager", reason="wrong",
            )


def test_a_reference_never_changes_and_claims_no_type(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message("Please repair the fence panel that blew down.", sender="e@example.com"))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        before = item.reference
        assert before.startswith("REF-")
        correct_item(runtime, session, item, user="tina", type="enquiry", categories=[], flags=[], queue=None,
                     reason="it is a question")
        assert item.reference == before


def test_correcting_a_case_to_an_enquiry_takes_its_complaint_follow_ups_out(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    first = ingest(runtime, sms_message("hi can someone fix my back door it wont lock. flat 3 ash court", phone=SHARED))
    clock.shift(timedelta(hours=3))
    chaser = ingest(runtime, sms_message(
        "i want to make a formal complaint, nobody has come about my door and nobody rings back", phone=SHARED))
    with runtime.database.session() as session:
        root, follow_up = session.get(Item, first.item_id), session.get(Item, chaser.item_id)
        assert follow_up.case_id == root.id
        follow_up.type = "complaint"  # as the classifier or a person may have said
        correct_item(runtime, session, root, user="tina", type="enquiry", categories=[], flags=[], queue=None,
                     reason="it was a question")
        assert follow_up.case_id is None and follow_up.complaint_stage is not None
