"""The queues, the item page, corrections and case actions, through the workspace's own forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.pipeline import ingest
from intake.privacy.notes import note_text
from intake.runtime import Runtime
from models import Acknowledgement, AuditEntry, Correction, Item
from tests.factories import email_message, sms_message
from tests.web.conftest import signed_in, staff_post

QUESTION = "Hi, could you send me a copy of my rent statement for 2025/26 please? I need it for a benefit claim. Thanks, Tom"
CHASER = ("This is the third time I am reporting the leak under the bath at 14 Orchard Court. Your contractor said he "
          "would come back with a part and nobody has been since. Water is now coming through the kitchen ceiling.")


def _item(runtime: Runtime, item_id: int) -> Item:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        session.expunge(item)
        return item


def _rows(page: str) -> list[str]:
    return re.findall(r'data-item-link>([^<]+)<', page)


def test_queues_show_counts_and_rows_with_labels_and_time_left(client: TestClient, runtime: Runtime) -> None:
    question = ingest(runtime, email_message(QUESTION, subject="Rent statement", sender="tom@example.com"))
    complaint = ingest(runtime, email_message(CHASER, subject="Leak - third time"))
    signed_in(client, runtime, "tina", "triage")
    page = client.get("/staff/queues").text
    assert sorted(_rows(page)) == sorted([_item(runtime, question.item_id).reference,
                                          _item(runtime, complaint.item_id).reference])
    queue = _item(runtime, complaint.item_id).queue
    assert re.search(rf'href="/staff/queues/{queue}".*?<span class="count">1</span>', page, re.S)
    assert "tom@example.com" in page and "Rent statement" in page
    assert re.search(r"\d+%", page)  # confidence next to the type
    assert "left" in page  # time to the next deadline


def test_overdue_items_are_marked_and_filtered(client: TestClient, runtime: Runtime) -> None:
    # Received and acknowledged 60 days ago (a complaint acknowledged today would count its response
    # from today's acknowledgement, so it would not be overdue: see tests/lifecycle).
    with time_machine.travel(datetime.now(UTC) - timedelta(days=60), tick=False):
        old = ingest(runtime, email_message(CHASER, subject="Leak"))
    ingest(runtime, email_message(QUESTION, subject="Rent statement"))
    signed_in(client, runtime, "tina", "triage")
    overdue = client.get("/staff/queues?due=overdue").text
    assert _rows(overdue) == [_item(runtime, old.item_id).reference]
    assert 'class="overdue">overdue by' in overdue
    assert '<span>Overdue</span> <span class="count overdue">1</span>' in overdue


def test_filters_by_type_flag_and_channel_and_search(client: TestClient, runtime: Runtime) -> None:
    by_email = ingest(runtime, email_message(QUESTION, subject="Rent statement"))
    by_text = ingest(runtime, sms_message("gas smell in my kitchen right now, im scared to turn anything on"))
    signed_in(client, runtime, "tina", "triage")
    email_ref, text_ref = _item(runtime, by_email.item_id).reference, _item(runtime, by_text.item_id).reference
    assert _rows(client.get("/staff/queues?channel=sms").text) == [text_ref]
    assert _rows(client.get("/staff/queues?flag=urgent_safety").text) == [text_ref]
    for item_type in {_item(runtime, by_email.item_id).type, _item(runtime, by_text.item_id).type}:
        expected = {i.reference for i in (_item(runtime, by_email.item_id), _item(runtime, by_text.item_id))
                    if i.type == item_type}
        assert set(_rows(client.get(f"/staff/queues?type={item_type}").text)) == expected
    assert _rows(client.get("/staff/queues?q=benefit+claim").text) == [email_ref]
    assert _rows(client.get(f"/staff/queues?q={email_ref}").text) == [email_ref]
    # Unknown filter values are ignored, SQL-looking searches are just text.
    assert len(_rows(client.get("/staff/queues?flag=';DROP TABLE items;--").text)) == 2
    assert _rows(client.get("/staff/queues?q=%25' OR '1'='1").text) == []


def test_the_item_page_shows_the_message_labels_explanation_deadlines_and_audit(
    client: TestClient, runtime: Runtime
) -> None:
    result = ingest(runtime, email_message(CHASER, subject="Leak - third time"))
    signed_in(client, runtime, "tina", "triage")
    page = client.get(f"/staff/items/{result.item_id}").text
    item = _item(runtime, result.item_id)
    assert item.reference in page and "Orchard Court" in page
    assert "How sure the model is" in page
    assert "<mark" in page  # the words that mattered, highlighted
    with runtime.database.session() as session:
        from intake.cases import current_deadlines

        bases = [d.basis for d in current_deadlines(session.get(Item, item.id))]
    assert bases and all(basis.replace("'", "&#39;").replace('"', "&#34;") in page for basis in bases)
    assert 'data-testid="ombudsman-reminder"' in page
    assert "Audit trail" in page and "received" in page and "processed" in page


def test_the_item_page_says_which_passage_of_a_long_message_raised_a_safeguarding_flag(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.classifier.test_passages import CHILD_ALONE, read_whole_below_the_bar, service_charge_email

    read_whole_below_the_bar(runtime.classifier, monkeypatch)
    result = ingest(runtime, email_message(service_charge_email(CHILD_ALONE), subject="Service charge statement query"))
    signed_in(client, runtime, "tina", "triage")
    page = client.get(f"/staff/items/{result.item_id}").text
    assert _item(runtime, result.item_id).queue == "safeguarding"
    assert "Flag: safeguarding raised by passage 4 of 6 read on its own" in page
    assert "The little boy across the landing" in page


def test_correcting_an_item_moves_it_to_its_new_queue(client: TestClient, runtime: Runtime) -> None:
    result = ingest(runtime, email_message(QUESTION, subject="Rent statement"))
    before = _item(runtime, result.item_id)
    assert before.type != "complaint"
    signed_in(client, runtime, "tina", "triage")
    url = f"/staff/items/{result.item_id}"
    response = staff_post(client, url, f"{url}/correct",
                          {"type": "complaint", "categories": ["delay", "cost"], "queue": "", "reason": "chasing"})
    assert response.status_code == 303 and response.headers["location"] == url
    shown = client.get(url).text
    assert "Correction saved" in shown and "Moved from" in shown
    assert before.reference in _rows(client.get("/staff/queues/complaints").text)
    assert before.reference not in _rows(client.get(f"/staff/queues/{before.queue}").text)
    with runtime.database.session() as session:
        correction = session.scalars(select(Correction)).one()
        assert correction.after["categories"] == ["cost", "delay"] and correction.corrected_by == "tina"
        complaint_ack = session.scalars(select(Acknowledgement).where(Acknowledgement.purpose == "complaint")).one()
        assert complaint_ack.status == "sent"  # sent at once, not left for the sweep


def test_a_correction_with_categories_on_a_non_complaint_is_refused_on_the_page(
    client: TestClient, runtime: Runtime
) -> None:
    result = ingest(runtime, email_message(QUESTION, subject="Rent statement"))
    signed_in(client, runtime, "tina", "triage")
    url = f"/staff/items/{result.item_id}"
    response = staff_post(client, url, f"{url}/correct", {"type": "enquiry", "categories": ["delay"]})
    assert response.status_code == 400
    assert "Categories are for complaints only" in response.text
    with runtime.database.session() as session:
        assert session.scalars(select(Correction)).first() is None


def test_a_manager_escalates_a_complaint_and_a_triage_officer_cannot(client: TestClient, runtime: Runtime) -> None:
    result = ingest(runtime, email_message(QUESTION, subject="Rent statement"))
    url = f"/staff/items/{result.item_id}"
    signed_in(client, runtime, "tina", "triage")
    staff_post(client, url, f"{url}/correct", {"type": "complaint", "categories": ["delay"]})
    refused = staff_post(client, url, f"{url}/escalate", {"reason": "still unhappy"})
    assert refused.status_code == 403
    assert _item(runtime, result.item_id).complaint_stage == "stage_1"

    staff_post(client, url, "/staff/logout", {})
    signed_in(client, runtime, "mo", "manager")
    escalated = staff_post(client, url, f"{url}/escalate", {"reason": "still unhappy"})
    assert escalated.status_code == 303
    assert "Escalated to Stage 2" in client.get(url).text
    assert _item(runtime, result.item_id).complaint_stage == "stage_2"
    with runtime.database.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "escalated")).one()
        # The reason is a case note (erasable); the append-only audit log keeps only its id.
        assert (entry.actor, note_text(session, entry.details["reason"])) == ("mo", "still unhappy")


def test_escalating_past_the_last_stage_says_to_signpost_the_ombudsman(client: TestClient, runtime: Runtime) -> None:
    result = ingest(runtime, email_message(CHASER, subject="Leak"))
    url = f"/staff/items/{result.item_id}"
    signed_in(client, runtime, "mo", "manager")
    assert _item(runtime, result.item_id).type == "complaint"  # the pinned model reads a chaser as one
    staff_post(client, url, f"{url}/escalate", {})
    assert "final stage" in client.get(url).text
    refused = staff_post(client, url, f"{url}/escalate", {})
    assert refused.status_code == 409
    assert "Housing Ombudsman" in refused.text


def test_case_actions_assign_extend_respond_and_close(client: TestClient, runtime: Runtime) -> None:
    result = ingest(runtime, email_message(QUESTION, subject="Rent statement"))
    url = f"/staff/items/{result.item_id}"
    signed_in(client, runtime, "mo", "manager")
    staff_post(client, url, f"{url}/correct", {"type": "complaint", "categories": ["delay"]})
    assert staff_post(client, url, f"{url}/assign", {"assignee": "mo"}).status_code == 303
    assert staff_post(client, url, f"{url}/assign", {"assignee": "stranger"}).status_code == 400
    no_reason = staff_post(client, url, f"{url}/extend", {"until": "2099-01-30", "reason": ""})
    assert no_reason.status_code == 400 and "Enter the reason" in no_reason.text
    with runtime.database.session() as session:
        from intake.cases import current_deadlines

        respond_by = next(d.due_at for d in current_deadlines(session.get(Item, result.item_id)) if d.kind == "respond")
    too_far = staff_post(client, url, f"{url}/extend", {"until": (respond_by + timedelta(days=90)).date().isoformat(),
                                                       "reason": "waiting for a survey"})
    assert too_far.status_code == 409 and "allows an extension of at most" in too_far.text
    until = (respond_by + timedelta(days=7)).date().isoformat()
    assert staff_post(client, url, f"{url}/extend", {"until": until, "reason": "waiting for a survey"}).status_code == 303
    no_summary = staff_post(client, url, f"{url}/response", {"summary": "   "})
    assert no_summary.status_code == 400 and "Enter a summary of the response you sent" in no_summary.text
    assert staff_post(client, url, f"{url}/response", {"summary": "Apologised, booked the repair"}).status_code == 303
    assert staff_post(client, url, f"{url}/close", {"outcome": "upheld", "remedy": "£50"}).status_code == 303
    item = _item(runtime, result.item_id)
    assert (item.assigned_to, item.case_status, item.outcome) == ("mo", "closed", "upheld")
    no_reopen_reason = staff_post(client, url, f"{url}/reopen", {"reason": ""})
    assert no_reopen_reason.status_code == 400 and "Enter why the case is being reopened" in no_reopen_reason.text
    assert _item(runtime, result.item_id).case_status == "closed"
    with runtime.database.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.item_id == item.id)))
    assert {"assigned", "extended", "response_recorded", "closed"} <= set(actions)


def test_attachments_download_and_never_display_inline(client: TestClient, runtime: Runtime) -> None:
    from channels.message import Attachment

    html = b"<html><script>alert(1)</script></html>"
    message = email_message(QUESTION, attachments=[Attachment("x.html", "text/html", len(html), "0" * 64, html)])
    result = ingest(runtime, message)
    signed_in(client, runtime, "tina", "triage")
    page = client.get(f"/staff/items/{result.item_id}").text
    link = re.search(r'href="(/staff/items/\d+/attachments/\d+)"', page).group(1)  # type: ignore[union-attr]
    response = client.get(link)
    assert response.content == html
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")


def test_an_unknown_item_is_a_page_not_found(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "tina", "triage")
    response = client.get("/staff/items/999999")
    assert response.status_code == 404 and "Page not found" in response.text
