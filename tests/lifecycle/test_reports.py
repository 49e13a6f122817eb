"""Reports agree with each other and with the queues, count only what they say, open on data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake import cases
from intake.pipeline import ingest
from intake.reports.periods import quarter_of
from intake.reports.service import build_view
from intake.web.reports import opening_period
from models import Item
from tests.factories import email_message

COMPLAINT = "I want to make a formal complaint. The repairs team missed three appointments and nobody called."


def test_timeliness_and_tsm_ch02_agree_on_a_complaint_that_arrived_late(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    # Received three weeks ago (an integration catching up), acknowledged today, answered in a week.
    received = datetime.now(UTC) - timedelta(days=21)
    result = ingest(runtime, email_message(COMPLAINT, sender="late@example.com", received_at=received))
    clock.shift(timedelta(days=7))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        cases.record_response(runtime, session, item, actor="officer", summary="our reply")
    now = datetime.now(UTC)
    period = quarter_of(now.date())
    timeliness = build_view(runtime, "timeliness", period, now=now)
    tsm = build_view(runtime, "tsm", period, now=now)
    respond = timeliness.find(measure="respond", type="complaint", stage="stage_1")
    ch02 = tsm.find(measure="CH02 stage 1")
    assert (respond["met"], respond["in_target"]) == (ch02["base"], ch02["count"]) == (1, 0)


def test_corrections_by_staff_count_only_items_a_person_reviewed(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    first = ingest(runtime, email_message(COMPLAINT, sender="one@example.com"))
    ingest(runtime, email_message("Please repair the fence panel that blew down.", sender="two@example.com"))
    now = datetime.now(UTC)
    period = quarter_of(now.date())
    assert build_view(runtime, "corrections", period, now=now).totals["classified"] == 0
    with runtime.database.session() as session:
        cases.assign(session, session.get(Item, first.item_id), actor="tina", assignee="tina")
    table = build_view(runtime, "corrections", period, now=now)
    assert (table.totals["classified"], table.totals["corrected"]) == (1, 0)


def test_reports_open_on_the_latest_period_with_data(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    ingest(runtime, email_message(COMPLAINT, sender="new@example.com"))
    now = datetime.now(UTC)
    opened = opening_period(runtime, now)
    assert opened.first_day <= now.date() <= opened.last_day  # the last complete quarter is empty


def test_reports_open_on_the_last_complete_quarter_when_it_has_data(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    ingest(runtime, email_message(COMPLAINT, sender="old@example.com", received_at=datetime(2026, 9, 10, 10, tzinfo=UTC)))
    ingest(runtime, email_message(COMPLAINT, sender="new@example.com"))
    opened = opening_period(runtime, datetime.now(UTC))
    assert (opened.first_day.isoformat(), opened.last_day.isoformat()) == ("2026-07-01", "2026-09-30")


def test_a_response_before_the_acknowledgement_counts_alike_in_timeliness_and_ch02(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    # No contact details: no letter can go, so the case is answered before it is ever acknowledged.
    from channels.message import InboundMessage

    result = ingest(runtime, InboundMessage(channel="web_form", external_id="web-no-contact", body=COMPLAINT))
    clock.shift(timedelta(days=17))  # after 10 working days from receipt, within 15 (5 to acknowledge + 10)
    _filed_as_a_complaint(runtime, result.item_id)
    with runtime.database.session() as session:
        cases.record_response(runtime, session, session.get(Item, result.item_id), actor="officer", summary="reply")
    respond, ch02 = _stage_one_response_in_timeliness_and_ch02(runtime)
    assert respond == ch02


def test_a_late_call_back_then_a_response_counts_alike_in_timeliness_and_ch02(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    # Found by the 3,000-message quarter: a landline caller (no letter can go) called back after the
    # acknowledgement was due, then answered the same day. The response counts from that
    # acknowledgement (capped at its due date), so the response deadline must move when it is met.
    from channels.message import InboundMessage

    landline = "+441632960123"  # a UK landline: cannot receive texts
    result = ingest(runtime, InboundMessage(
        channel="call_transcript", external_id="call-landline-late", body=f"Caller: {COMPLAINT}",
        sender_address=landline, sender_phone=landline, sender_name="Lee Landline",
    ))
    clock.shift(timedelta(days=17))  # past 10 working days from receipt, within 5 + 10
    _filed_as_a_complaint(runtime, result.item_id)
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        cases.record_action(runtime, session, item, action="called_back", actor="officer")
        cases.record_response(runtime, session, item, actor="officer", summary="reply")
    respond, ch02 = _stage_one_response_in_timeliness_and_ch02(runtime)
    assert respond == ch02 == (1, 1)


def _filed_as_a_complaint(runtime, item_id: int) -> None:  # type: ignore[no-untyped-def]
    """A triage officer's correction where the model read the message as something else."""
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        if item.type != "complaint":
            from intake.corrections import correct_item

            correct_item(runtime, session, item, user="tina", type="complaint", categories=[], flags=[],
                         queue=None, reason="a complaint")


def _stage_one_response_in_timeliness_and_ch02(runtime) -> tuple[tuple[int, int], tuple[int, int]]:  # type: ignore[no-untyped-def]
    """(met, in target) of stage-1 responses in the timeliness report and (base, count) of TSM CH02."""
    now = datetime.now(UTC)  # the test's frozen clock (time-machine)
    period = quarter_of(now.date())
    respond = build_view(runtime, "timeliness", period, now=now).find(measure="respond", type="complaint", stage="stage_1")
    ch02 = build_view(runtime, "tsm", period, now=now).find(measure="CH02 stage 1")
    return (respond["met"], respond["in_target"]), (ch02["base"], ch02["count"])
