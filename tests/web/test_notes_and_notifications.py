"""Internal notes with @mentions, notifications for mentions, assignments and unclaimed emergencies,
the soft lock, and the acknowledgement text readable on the case."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.pipeline import ingest
from intake.runtime import Runtime
from intake.users import create_user
from models import AuditEntry, CaseNote, StaffNotification
from tests.factories import email_message, sms_message
from tests.web.conftest import PASSWORD, sign_in, signed_in, staff_post

COMPLAINT = ("I want to make a complaint. This is the third time I am reporting the leak under the bath at "
             "14 Orchard Court and nobody has come back with the part.")
GAS = "gas smell in my kitchen right now, im scared to turn anything on"


def _add(runtime: Runtime, username: str, role: str = "triage", full_name: str | None = None) -> None:
    with runtime.database.session() as session:
        create_user(session, username=username, password=PASSWORD, role=role, full_name=full_name, actor="test")


def test_a_note_is_kept_on_the_case_and_mentions_notify_only_real_colleagues(
    client: TestClient, runtime: Runtime
) -> None:
    item = ingest(runtime, email_message(COMPLAINT, subject="Leak"))
    _add(runtime, "aisha")
    signed_in(client, runtime, "tina", "triage")
    url = f"/staff/items/{item.item_id}"

    response = staff_post(client, url, f"{url}/notes", {"note": "@aisha can you call her back? cc @nobody"})

    assert response.status_code == 303
    page = client.get(url).text
    assert "can you call her back?" in page
    with runtime.database.session() as session:
        notes = session.scalars(select(CaseNote)).all()
        assert [(n.author, n.item_id) for n in notes] == [("tina", item.item_id)]
        sent = session.scalars(select(StaffNotification)).all()
        assert [(n.username, n.kind) for n in sent] == [("aisha", "mentioned")]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "note_added")).one()
        assert audit.details["mentioned"] == ["aisha"]
        assert "call her back" not in str(audit.details)  # the note's words stay out of the audit log


def test_an_empty_note_is_refused_with_a_message(client: TestClient, runtime: Runtime) -> None:
    item = ingest(runtime, email_message(COMPLAINT, subject="Leak"))
    signed_in(client, runtime, "tina", "triage")
    url = f"/staff/items/{item.item_id}"

    response = staff_post(client, url, f"{url}/notes", {"note": "   "})

    assert response.status_code == 400
    assert "Write the note before adding it" in response.text


def test_the_mentioned_colleague_sees_it_in_notifications_and_can_mark_it_read(
    client: TestClient, runtime: Runtime
) -> None:
    item = ingest(runtime, email_message(COMPLAINT, subject="Leak"))
    _add(runtime, "aisha")
    signed_in(client, runtime, "tina", "triage")
    url = f"/staff/items/{item.item_id}"
    staff_post(client, url, f"{url}/notes", {"note": "@aisha please look"})
    client.post("/staff/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)})  # type: ignore[union-attr]

    assert sign_in(client, "aisha").status_code == 303
    page = client.get("/staff/notifications").text
    assert "tina mentioned you in a note" in page
    assert client.get("/staff/notifications/count").json()["count"] >= 1

    assert staff_post(client, "/staff/notifications", "/staff/notifications/read", {}).status_code == 303
    with runtime.database.session() as session:
        assert all(n.read_at is not None for n in session.scalars(select(StaffNotification)))


def test_assigning_a_case_to_a_colleague_notifies_them(client: TestClient, runtime: Runtime) -> None:
    item = ingest(runtime, email_message(COMPLAINT, subject="Leak"))
    _add(runtime, "mo", full_name="Mo Patel")
    signed_in(client, runtime, "tina", "triage")
    url = f"/staff/items/{item.item_id}"

    assert staff_post(client, url, f"{url}/assign", {"assignee": "mo"}).status_code == 303

    with runtime.database.session() as session:
        sent = session.scalars(select(StaffNotification)).all()
        assert [(n.username, n.kind, n.item_id) for n in sent] == [("mo", "assigned", item.item_id)]


def test_an_emergency_nobody_has_picked_up_is_on_everyones_notifications(
    client: TestClient, runtime: Runtime
) -> None:
    gas = ingest(runtime, sms_message(GAS, phone="+447911123456"))
    signed_in(client, runtime, "tina", "triage")

    page = client.get("/staff/notifications").text

    assert f'href="/staff/items/{gas.item_id}"' in page.split('id="unassigned-urgent"')[1].split("</ul>")[0]


def test_a_colleague_with_the_case_open_is_shown_as_viewing_it(client: TestClient, runtime: Runtime) -> None:
    item = ingest(runtime, email_message(COMPLAINT, subject="Leak"))
    _add(runtime, "aisha", full_name="Aisha Khan")
    url = f"/staff/items/{item.item_id}"
    assert sign_in(client, "aisha").status_code == 303
    assert "is viewing this case" not in client.get(url).text
    client.cookies.clear()

    signed_in(client, runtime, "tina", "triage")
    page = client.get(url).text

    assert "Aisha Khan</strong> is viewing this case" in page


def test_the_text_of_what_was_sent_can_be_read_on_the_case(client: TestClient, runtime: Runtime) -> None:
    item = ingest(runtime, email_message(COMPLAINT, subject="Leak", sender="ann@example.com"))
    signed_in(client, runtime, "tina", "triage")

    page = client.get(f"/staff/items/{item.item_id}").text

    sent = page.split("What we sent")[1]
    assert "Read what was sent" in sent
    assert re.search(r"CMP-\d{4}-\d+|\b[A-Z]{3}-\d{4}-\d+", sent)  # the reference quoted in the letter
