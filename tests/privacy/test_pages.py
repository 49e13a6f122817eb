"""The workspace: every staff view and search leaves one access entry; restriction hides items from all
but admins; the admin privacy pages list requests with days left, a person's data and the trail."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.privacy import service
from intake.privacy.subjects import SubjectQuery
from intake.runtime import Runtime
from intake.web.privacy_pages import privacy_clock
from models import AccessLogEntry, Attachment, Item
from tests.privacy.conftest import EMAIL, STORY, Resident
from tests.web.conftest import csrf_of, signed_in

NOW = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)


def _trail(runtime: Runtime) -> list[tuple[str, str, int | None, str | None]]:
    with runtime.database.session() as session:
        return [(e.actor, e.action, e.item_id, e.target)
                for e in session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id))]


def test_each_view_of_an_item_its_original_and_its_attachment_writes_one_access_entry(
    client: TestClient, runtime: Runtime, resident: Resident
) -> None:
    signed_in(client, runtime, "tina", "triage")
    item_id = resident.complaint_id
    with runtime.database.session() as session:
        attachment_id = session.scalars(select(Attachment.id).where(Attachment.item_id == item_id)).one()
    assert client.get(f"/staff/items/{item_id}").status_code == 200
    assert _trail(runtime) == [("tina", "view_item", item_id, None)]
    assert client.get(f"/staff/items/{item_id}/raw").status_code == 200
    assert client.get(f"/staff/items/{item_id}/attachments/{attachment_id}").status_code == 200
    assert _trail(runtime)[1:] == [("tina", "view_raw", item_id, None),
                                   ("tina", "view_attachment", item_id, f"attachment:{attachment_id}")]


def test_a_search_is_recorded_with_what_it_found_but_not_the_words(
    client: TestClient, runtime: Runtime, resident: Resident
) -> None:
    signed_in(client, runtime, "tina", "triage")
    assert client.get("/staff/queues", params={"q": "Trelawney"}).status_code == 200
    with runtime.database.session() as session:
        entry = session.scalars(select(AccessLogEntry)).one()
        assert (entry.actor, entry.action) == ("tina", "search")
        assert resident.complaint_id in entry.details["found"] and resident.other_id not in entry.details["found"]
        assert "Trelawney" not in json.dumps(entry.details)
    assert client.get("/staff/queues").status_code == 200  # no search, no entry
    assert len(_trail(runtime)) == 1


def test_restricted_items_are_shown_to_admins_only(client: TestClient, runtime: Runtime, resident: Resident) -> None:
    service.restrict_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW)
    signed_in(client, runtime, "tina", "triage")
    assert client.get(f"/staff/items/{resident.complaint_id}").status_code == 404
    assert client.get(f"/staff/items/{resident.complaint_id}/raw").status_code == 404
    assert STORY not in client.get("/staff/queues", params={"q": "zebra-striped"}).text
    assert client.get(f"/staff/items/{resident.other_id}").status_code == 200
    client.post("/staff/logout", data={"csrf_token": csrf_of(client.get("/staff/queues").text)})
    signed_in(client, runtime, "ada", "admin")
    page = client.get(f"/staff/items/{resident.complaint_id}").text
    assert STORY in page and "restricted: admins only" in page
    assert f'href="/staff/privacy/items/{resident.complaint_id}"' in page
    assert STORY in client.get("/staff/queues", params={"q": "zebra-striped"}).text


def test_the_privacy_page_lists_requests_with_days_left_by_the_clock_it_is_given(
    client: TestClient, runtime: Runtime, resident: Resident
) -> None:
    service.log_request(runtime, SubjectQuery(email=EMAIL), kind="export", actor="dpo", now=NOW)
    client.app.dependency_overrides[privacy_clock] = lambda: datetime(2026, 8, 20, 10, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    signed_in(client, runtime, "ada", "admin")
    page = client.get("/staff/privacy").text
    assert "14 days left" in page and EMAIL not in page
    client.app.dependency_overrides[privacy_clock] = lambda: datetime(2026, 9, 5, 10, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    assert "overdue by 2 days" in client.get("/staff/privacy").text


def test_an_admin_finds_a_person_exports_and_is_told_why_erasure_is_refused(
    client: TestClient, runtime: Runtime, resident: Resident
) -> None:
    client.app.dependency_overrides[privacy_clock] = lambda: NOW  # type: ignore[attr-defined]
    signed_in(client, runtime, "ada", "admin")
    person = client.get("/staff/privacy/person", params={"email": EMAIL})
    assert person.status_code == 200
    assert f'value="{resident.mention_id}"' in person.text  # the advocate's letter, to confirm
    form = {"csrf_token": csrf_of(person.text), "email": EMAIL, "phone": "", "contact": ""}
    exported = client.post("/staff/privacy/act", data={**form, "action": "export"})
    assert exported.headers["content-type"] == "application/zip"
    data = json.loads(zipfile.ZipFile(io.BytesIO(exported.content)).read("data.json"))
    assert [i["id"] for i in data["items"]] == resident.mine
    refused = client.post("/staff/privacy/act", data={**form, "action": "erase", "reason": "asked by letter"})
    assert refused.status_code == 409 and "is open" in refused.text
    with runtime.database.session() as session:
        assert session.get(Item, resident.complaint_id).erased_at is None  # type: ignore[union-attr]
    trail = client.get(f"/staff/privacy/items/{resident.complaint_id}").text
    assert "<td>ada</td><td>export</td>" in trail and "found 1, 2, 3, 4, 5" in trail


def test_the_privacy_pages_are_for_admins(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "mo", "manager")
    assert client.get("/staff/privacy").status_code == 403
    assert client.get("/staff/privacy/retention").status_code == 403


def test_an_integration_cannot_read_a_restricted_item(client: TestClient, runtime: Runtime, resident: Resident) -> None:
    from intake.tokens import create_token

    with runtime.database.session() as session:
        token = create_token(session, "housing-system", scopes=["items:write", "items:read"])
        reference = session.get(Item, resident.complaint_id).reference  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/items/{reference}", headers=headers).status_code == 200
    service.restrict_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW)
    assert client.get(f"/api/v1/items/{reference}", headers=headers).status_code == 404
