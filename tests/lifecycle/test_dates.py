"""Every date a person sees is the deadlines module's answer, and each one can be met."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from channels.message import InboundMessage
from intake import cases, deadlines
from intake.errors import InvalidTransition
from intake.pipeline import ingest
from intake.reports import queries
from intake.web.queue_view import due_counts
from models import Acknowledgement, AuditEntry, Item
from tests.factories import email_message

COMPLAINT = "I want to make a formal complaint. The repairs team missed three appointments and nobody called."
DAMP = "There is black mould all over the bedroom wall and my baby keeps coughing. Please inspect the damp."
GAS = "I can smell gas in the kitchen right now, I have opened the windows"
DATE_WORDS = re.compile(r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) (\d{1,2}) (\w+) (\d{4})")


def _dates_in(text: str) -> list[datetime]:
    return [
        datetime.strptime(f"{day} {month} {year}", "%d %B %Y").replace(tzinfo=UTC)
        for _, day, month, year in DATE_WORDS.findall(text)
    ]


def _promised(text: str) -> list[datetime]:
    """Dates the letter promises: "by <date>" in a sentence that does not say the date has passed."""
    sentences = [s for s in re.split(r"(?<=\.)\s", text) if "passed" not in s]
    return [
        date
        for sentence in sentences
        for match in re.finditer(r"\bby (?:\d{1,2}:\d{2}[ap]m on |the end of )?(\w+ \d{1,2} \w+ \d{4})", sentence)
        for date in _dates_in(match.group(1))
    ]


def test_the_next_due_date_moves_on_once_the_acknowledgement_is_sent(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message(COMPLAINT, sender="cam@example.com"))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.type == "complaint"
        acknowledge = next(d for d in deadlines.current(item) if d.kind == "acknowledge")
        respond = next(d for d in deadlines.current(item) if d.kind == "respond")
        assert acknowledge.met_at is not None
        assert item.next_due_at == respond.due_at == deadlines.next_due(item)


def test_a_late_acknowledgement_shows_as_met_late(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    received = datetime.now(UTC) - timedelta(days=21)  # an integration catching up
    result = ingest(runtime, email_message(COMPLAINT, sender="late@example.com", received_at=received))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        acknowledge = next(d for d in deadlines.current(item) if d.kind == "acknowledge")
        state = deadlines.state_of(acknowledge, datetime.now(UTC))
        assert state.state == "met_late" and "late" in state.words


def test_a_letter_for_a_message_received_weeks_ago_promises_no_past_date(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    received = datetime.now(UTC) - timedelta(days=30)
    result = ingest(runtime, email_message(DAMP, sender="mould@example.com", received_at=received))
    with runtime.database.session() as session:
        letter = session.scalars(select(Acknowledgement).where(Acknowledgement.item_id == result.item_id)).one()
        assert letter.status == "sent"
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        assert all(date >= today for date in _promised(letter.body_text)), letter.body_text
        assert "has already passed" in letter.body_text  # said plainly


def test_the_complaint_acknowledgement_subject_says_complaint_even_when_urgent(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    result = ingest(
        runtime,
        email_message(
            "I am writing to make a formal complaint about how you handled my gas leak. I reported a smell "
            "of gas last week and nobody came. I can still smell gas in the kitchen now.",
            sender="urgent@example.com",
            subject="Formal complaint",
        ),
    )
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        letter = session.scalars(select(Acknowledgement).where(Acknowledgement.item_id == item.id)).one()
        assert item.type == "complaint" and "urgent_safety" in item.flags
        assert "complaint" in (letter.subject or "") and "999" in (letter.subject or "")


def test_the_stage_2_letter_is_about_stage_2_and_repeats_no_past_date(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message(f"{COMPLAINT} {GAS}", sender="stage@example.com"))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        if item.type != "complaint":
            item.type = "complaint"
            cases.start_stage(item, "stage_1", item.received_at)
            deadlines.recompute(runtime, session, item)
        cases.record_response(runtime, session, item, actor="officer", summary="stage 1 reply")
    clock.shift(timedelta(days=40))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        cases.escalate(runtime, session, item, actor="manager", reason="not happy")
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        ids = cases.pending_acknowledgement_ids(session, item.id)
    for acknowledgement_id in ids:
        runtime.jobs.enqueue_acknowledgement(acknowledgement_id)
    with runtime.database.session() as session:
        letter = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == result.item_id, Acknowledgement.purpose == "stage_2")
        ).one()
        assert "stage 2" in letter.subject and not letter.subject.split("] ", 1)[1].startswith("Urgent")
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        promised = _promised(letter.body_text)
        assert promised and all(d >= today for d in promised), letter.body_text


def test_every_deadline_kind_has_an_action_that_meets_it(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    for kind in ("acknowledge", "respond", "make_safe", "investigate_hazard", "holding_response",
                 "arrange_meeting", "notify_review_meeting", "hold_hearing"):
        assert deadlines.action_for(kind) is not None, kind
    result = ingest(runtime, email_message(f"{GAS}. {DAMP}", sender="hazard@example.com"))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        kinds = deadlines.open_kinds(item)
        for action in ("made_safe", "hazard_inspected"):
            if set(deadlines.ACTIONS[action].kinds) & kinds:
                cases.record_action(runtime, session, item, action=action, actor="officer")
        remaining = deadlines.open_kinds(item) - {"respond", "acknowledge"}
        assert not remaining & {"make_safe", "investigate_hazard"}
        assert session.scalars(
            select(AuditEntry).where(AuditEntry.item_id == item.id, AuditEntry.action.in_(("made_safe", "hazard_inspected")))
        ).first() is not None
        with pytest.raises(InvalidTransition):
            cases.record_action(runtime, session, item, action="made_safe", actor="officer")


def test_a_callback_meets_the_acknowledgement_of_a_resident_who_cannot_take_texts(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    landline = "+441632960123"  # a UK landline: cannot receive texts
    result = ingest(
        runtime,
        InboundMessage(
            channel="call_transcript", external_id="call-landline-1", body=f"Caller: {COMPLAINT}",
            sender_address=landline, sender_phone=landline, sender_name="Lee Landline",
        ),
    )
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        letter = session.scalars(select(Acknowledgement).where(Acknowledgement.item_id == item.id)).one()
        assert letter.status == "needs_callback"
        assert "acknowledge" in deadlines.open_kinds(item)
        cases.record_action(runtime, session, item, action="called_back", actor="officer")
        assert "acknowledge" not in deadlines.open_kinds(item)
        assert letter.status == "called_back"


def test_an_extension_is_told_to_the_resident(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message(COMPLAINT, sender="ext@example.com"))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        respond = next(d for d in deadlines.current(item) if d.kind == "respond")
        until = respond.due_at + timedelta(days=7)
        cases.extend(runtime, session, item, actor="manager", until=until, reason="we are waiting for a survey")
        ids = cases.pending_acknowledgement_ids(session, item.id)
    for acknowledgement_id in ids:
        runtime.jobs.enqueue_acknowledgement(acknowledgement_id)
    with runtime.database.session() as session:
        letter = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == result.item_id, Acknowledgement.purpose == "extension_1")
        ).one()
        assert letter.status == "sent"
        assert "waiting for a survey" in letter.body_text
        assert "new date" in letter.subject
        item = session.get(Item, result.item_id)
        holding = next(d for d in deadlines.current(item) if d.kind == "holding_response")
        assert holding.met_at is not None


def test_the_sidebar_the_queue_filter_and_the_reports_count_the_same_overdue_cases(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    for number in range(3):
        ingest(runtime, email_message(COMPLAINT, sender=f"resident{number}@example.com"))
    ingest(runtime, email_message("Thank you for fixing my door so quickly", sender="thanks@example.com"))
    clock.shift(timedelta(days=45))
    now = datetime.now(UTC)
    with runtime.database.session() as session:
        sidebar = due_counts(session, now=now)["overdue"]
        denormalised = session.scalar(
            select(queries.func.count()).select_from(Item).where(
                Item.case_id.is_(None), Item.case_status == "open", Item.next_due_at < now
            )
        )
        report_cases = len({g for g in queries.overdue_case_ids(session, now)})
        assert sidebar == denormalised == report_cases == 3


def test_junk_owes_nobody_a_reply_so_it_has_no_deadline_and_is_never_overdue(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    phishing = (
        "Dear user,\n\nYour mailbox password will expire in 24 hours. To keep using your account without "
        "interruption please validate your credentials using the link below.\n\nValidate Now\n\n"
        "Failure to validate will result in your mailbox being suspended.\n\nIT Service Desk"
    )
    result = ingest(runtime, email_message(phishing, subject="Your password expires today",
                                           sender="it-support@helpdesk-validate.example"))
    clock.shift(timedelta(days=30))
    now = datetime.now(UTC)
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.queue == "not_for_triage"
        assert deadlines.current(item) == [] and item.next_due_at is None
        assert due_counts(session, now=now)["overdue"] == 0
        assert queries.overdue_case_ids(session, now) == []


def test_a_date_computed_again_unchanged_keeps_its_row_and_only_a_moved_date_is_superseded(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message(COMPLAINT, sender="same@example.com"))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.type == "complaint"
        before = {(d.kind, d.stage): (d.id, d.due_at) for d in deadlines.current(item)}
        history = len(item.deadlines)
        deadlines.recompute(runtime, session, item)  # nothing it is computed from has changed
        session.flush()
        assert {(d.kind, d.stage): (d.id, d.due_at) for d in deadlines.current(item)} == before
        assert len(item.deadlines) == history  # no copies, nothing superseded
        respond_due = before[("respond", "stage_1")][1]
        item.details = {**item.details, "extended_until": (respond_due + timedelta(days=7)).isoformat()}  # within Code 6.4
        deadlines.recompute(runtime, session, item)  # the response date moves; the acknowledgement's does not
        session.flush()
        after = {(d.kind, d.stage): (d.id, d.due_at) for d in deadlines.current(item)}
    moved = {key for key in before if after[key] != before[key]}
    assert moved and ("acknowledge", "stage_1") not in moved
    assert after[("acknowledge", "stage_1")] == before[("acknowledge", "stage_1")]
    assert all(after[key][0] != before[key][0] for key in moved)  # a new row for each date that moved
