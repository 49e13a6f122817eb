"""The item page shows each deadline's state from the deadlines module and offers the action that
meets it; unlink and merge are staff actions on the page, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from intake import deadlines
from intake.pipeline import ingest
from models import AuditEntry, Item
from tests.factories import email_message, sms_message
from tests.web.conftest import signed_in, staff_post

GAS = "I can smell gas in my kitchen right now, please send someone"
COMPLAINT = "I want to make a formal complaint. The repairs team missed three appointments and nobody called."


def test_a_make_safe_deadline_is_met_from_the_item_page(client, runtime, clock) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message(GAS, sender="gas@example.com"))
    signed_in(client, runtime, "tina", "triage")
    page = client.get(f"/staff/items/{result.item_id}").text
    assert 'data-deadline-kind="make_safe" data-deadline-state="open"' in page
    assert "Record: made safe" in page
    response = staff_post(client, f"/staff/items/{result.item_id}", f"/staff/items/{result.item_id}/deadline-action",
                          {"action": "made_safe"})
    assert response.status_code == 303
    page = client.get(f"/staff/items/{result.item_id}").text
    assert 'data-deadline-kind="make_safe" data-deadline-state="met"' in page


def test_a_late_acknowledgement_shows_as_met_late_on_the_item_page(client, runtime, clock) -> None:  # type: ignore[no-untyped-def]
    received = datetime.now(UTC) - timedelta(days=20)
    result = ingest(runtime, email_message(COMPLAINT, sender="late@example.com", received_at=received))
    signed_in(client, runtime, "tina", "triage")
    page = client.get(f"/staff/items/{result.item_id}").text
    assert 'data-deadline-kind="acknowledge" data-deadline-state="met_late"' in page
    assert "met late, by" in page


def test_staff_take_a_follow_up_out_of_its_case_from_the_page(client, runtime, clock) -> None:  # type: ignore[no-untyped-def]
    first = ingest(runtime, sms_message("hi can someone fix my back door it wont lock. flat 3 ash court"))
    clock.shift(timedelta(hours=2))
    other = ingest(runtime, sms_message("can you tell me when the bins are collected on our road?"))
    signed_in(client, runtime, "tina", "triage")
    response = staff_post(client, f"/staff/items/{other.item_id}", f"/staff/items/{other.item_id}/unlink",
                          {"reason": "my neighbour used my phone"})
    assert response.status_code == 303
    with runtime.database.session() as session:
        item = session.get(Item, other.item_id)
        assert item.case_id is None and item.next_due_at == deadlines.next_due(item)
        assert session.scalars(
            select(AuditEntry).where(AuditEntry.item_id == first.item_id, AuditEntry.action == "case_split")
        ).first() is not None
