"""Running a team's day: my cases and unassigned views, live risk first, phone searches, a CSV of any
list, names in the assignee list, and triage officers closing what the landlord lets them close."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.pipeline import ingest
from intake.runtime import Runtime
from intake.users import create_user
from models import AuditEntry, Item
from tests.factories import email_message, sms_message
from tests.web.conftest import PASSWORD, signed_in, staff_post

RENT_QUESTION = "Hi, could you send me a copy of my rent statement for 2025/26 please? I need it for a benefit claim."
OLD_COMPLAINT = ("This is the third time I am reporting the leak under the bath at 14 Orchard Court. Your contractor "
                 "said he would come back with a part and nobody has been since. I want to make a complaint.")
GAS = "gas smell in my kitchen right now, im scared to turn anything on"
THANKS = "Just wanted to say a big thank you to Darren who fixed our front door lock so quickly yesterday, brilliant service"


def _rows(page: str) -> list[str]:
    return re.findall(r"data-item-link>([^<]+)<", page)


def _reference(runtime: Runtime, item_id: int) -> str:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.reference
        return item.reference


def _assign(runtime: Runtime, item_id: int, username: str | None) -> None:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        item.assigned_to = username


def test_my_cases_and_unassigned_show_only_those_cases_with_their_counts(client: TestClient, runtime: Runtime) -> None:
    mine = ingest(runtime, email_message(RENT_QUESTION, subject="Rent statement", sender="tom@example.com"))
    nobodys = ingest(runtime, email_message(OLD_COMPLAINT, subject="Leak", sender="ann@example.com"))
    signed_in(client, runtime, "tina", "triage")
    _assign(runtime, mine.item_id, "tina")

    my_cases = client.get("/staff/queues?assigned=me").text
    unassigned = client.get("/staff/queues?assigned=none").text

    assert _rows(my_cases) == [_reference(runtime, mine.item_id)]
    assert _rows(unassigned) == [_reference(runtime, nobodys.item_id)]
    assert re.search(r"My cases</span> <span class=\"count\">1<", my_cases)
    assert re.search(r"Unassigned</span> <span class=\"count\">1<", my_cases)


def test_a_new_gas_smell_is_listed_above_a_weeks_old_complaint(client: TestClient, runtime: Runtime) -> None:
    old = ingest(runtime, email_message(OLD_COMPLAINT, subject="Leak",
                                        received_at=datetime.now(UTC) - timedelta(days=30)))
    gas = ingest(runtime, sms_message(GAS))
    signed_in(client, runtime, "tina", "triage")

    rows = _rows(client.get("/staff/queues").text)

    assert rows.index(_reference(runtime, gas.item_id)) < rows.index(_reference(runtime, old.item_id))


def test_a_phone_number_typed_the_way_people_say_it_finds_the_texts_from_it(
    client: TestClient, runtime: Runtime
) -> None:
    text = ingest(runtime, sms_message(GAS, phone="+447911123456"))
    ingest(runtime, email_message(RENT_QUESTION, subject="Rent statement"))
    signed_in(client, runtime, "tina", "triage")

    for typed in ("07911 123456", "07911123456", "+44 7911 123456", "447911123456"):
        assert _rows(client.get("/staff/queues", params={"q": typed}).text) == [_reference(runtime, text.item_id)], typed


def test_the_queue_shows_when_each_message_arrived_and_the_residents_words_not_the_greeting(
    client: TestClient, runtime: Runtime
) -> None:
    ingest(runtime, email_message("Hi,\n\nThe boiler has been off since Tuesday and the baby is cold.", subject=""))
    signed_in(client, runtime, "tina", "triage")

    page = client.get("/staff/queues").text

    assert "<th scope=\"col\">Received</th>" in page
    assert "The boiler has been off since Tuesday" in page
    assert not re.search(r"<td>Hi,</td>", page)


def test_any_list_downloads_as_a_csv_with_every_case_and_the_export_is_audited(
    client: TestClient, runtime: Runtime
) -> None:
    overdue = ingest(runtime, email_message(OLD_COMPLAINT, subject="=HYPERLINK(\"http://x\")",
                                            received_at=datetime.now(UTC) - timedelta(days=60)))
    ingest(runtime, email_message(RENT_QUESTION, subject="Rent statement"))
    signed_in(client, runtime, "mandy", "manager")

    page = client.get("/staff/queues?due=overdue").text
    export_url = re.search(r'href="([^"]+)" download id="export-csv"', page)
    assert export_url
    response = client.get(export_url.group(1).replace("&amp;", "&"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["Reference"] for row in rows] == [_reference(runtime, overdue.item_id)]
    assert rows[0]["Subject or first words"].startswith("'=")  # never a formula in Excel
    assert rows[0]["Time left"].startswith("overdue by")
    with runtime.database.session() as session:
        exported = session.scalars(select(AuditEntry).where(AuditEntry.action == "case_list_exported")).one()
        assert exported.actor == "mandy" and exported.details["rows"] == 1


def test_the_assignee_list_shows_colleagues_names(client: TestClient, runtime: Runtime) -> None:
    item = ingest(runtime, email_message(RENT_QUESTION, subject="Rent statement"))
    with runtime.database.session() as session:
        create_user(session, username="aisha", password=PASSWORD, role="triage", full_name="Aisha Khan", actor="test")
    signed_in(client, runtime, "tina", "triage")

    page = client.get(f"/staff/items/{item.item_id}").text

    assert re.search(r'<option value="aisha"[^>]*>Aisha Khan</option>', page)


def test_a_triage_officer_closes_a_compliment_but_not_a_complaint(client: TestClient, runtime: Runtime) -> None:
    compliment = ingest(runtime, email_message(THANKS, subject="Thank you"))
    complaint = ingest(runtime, email_message(OLD_COMPLAINT, subject="Leak"))
    signed_in(client, runtime, "tina", "triage")
    with runtime.database.session() as session:
        types = {i.id: i.type for i in session.scalars(select(Item))}
    assert types[compliment.item_id] == "compliment" and types[complaint.item_id] == "complaint"

    compliment_url = f"/staff/items/{compliment.item_id}"
    complaint_url = f"/staff/items/{complaint.item_id}"
    assert 'action="' + compliment_url + '/close"' in client.get(compliment_url).text
    assert 'action="' + complaint_url + '/close"' not in client.get(complaint_url).text

    closed = staff_post(client, compliment_url, f"{compliment_url}/close", {"outcome": "no_further_action"})
    refused = staff_post(client, complaint_url, f"{complaint_url}/close", {"outcome": "upheld"})

    assert closed.status_code == 303
    assert refused.status_code == 409 and "ask a manager" in refused.text
    with runtime.database.session() as session:
        assert session.get(Item, compliment.item_id).case_status == "closed"  # type: ignore[union-attr]
        assert session.get(Item, complaint.item_id).case_status == "open"  # type: ignore[union-attr]


def _from_link(page: str, item_id: int) -> str:
    match = re.search(rf'href="(/staff/items/{item_id}\?from=[^"]+)" data-item-link', page)
    assert match, "the row does not remember the list it is in"
    return match.group(1).replace("&amp;", "&")


def test_save_and_next_opens_the_next_case_in_the_list_being_worked(client: TestClient, runtime: Runtime) -> None:
    first = ingest(runtime, email_message(RENT_QUESTION, subject="Rent statement", sender="a@example.com"))
    second = ingest(runtime, email_message("Could you tell me when the bins are collected on Elm Road?",
                                           subject="Bins", sender="b@example.com"))
    signed_in(client, runtime, "tina", "triage")
    listing = client.get("/staff/queues?channel=email").text
    rows = _rows(listing)
    assert set(rows) == {_reference(runtime, first.item_id), _reference(runtime, second.item_id)}
    top_id = first.item_id if rows[0] == _reference(runtime, first.item_id) else second.item_id
    other_id = second.item_id if top_id == first.item_id else first.item_id
    item_url = _from_link(listing, top_id)

    page = client.get(item_url).text
    assert 'href="/staff/queues?channel=email" data-shortcut-back' in page
    response = staff_post(client, item_url, f"/staff/items/{top_id}/correct",
                          {"type": "enquiry", "from": "/staff/queues?channel=email", "then": "next"})

    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/staff/items/{other_id}?from=")

    last = staff_post(client, response.headers["location"], f"/staff/items/{other_id}/correct",
                      {"type": "enquiry", "from": "/staff/queues?channel=email", "then": "next"})
    assert last.headers["location"] == "/staff/queues?channel=email"  # the end of the list: back to it


def test_a_from_address_outside_the_queues_is_never_followed(client: TestClient, runtime: Runtime) -> None:
    item = ingest(runtime, email_message(RENT_QUESTION, subject="Rent statement"))
    signed_in(client, runtime, "tina", "triage")

    page = client.get(f"/staff/items/{item.item_id}", params={"from": "https://evil.example/staff/queues"}).text

    assert "evil.example" not in page


def test_a_batch_of_compliments_is_closed_at_once_and_a_complaint_in_it_is_reported_not_closed(
    client: TestClient, runtime: Runtime
) -> None:
    thanks = [ingest(runtime, email_message(THANKS, subject="Thank you", sender=f"t{n}@example.com")) for n in range(3)]
    complaint = ingest(runtime, email_message(OLD_COMPLAINT, subject="Leak"))
    signed_in(client, runtime, "tina", "triage")
    ids = [str(t.item_id) for t in thanks] + [str(complaint.item_id)]

    page = client.get("/staff/queues")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post("/staff/queues/bulk", data={
        "csrf_token": csrf, "from": "/staff/queues", "action": "close", "value_close": "no_further_action",
        "item_ids": ids,
    }, follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/staff/queues"
    flash = client.get("/staff/queues").text
    assert "3 cases done" in flash and "1 not changed" in flash and "ask a manager" in flash
    with runtime.database.session() as session:
        statuses = {i.id: i.case_status for i in session.scalars(select(Item))}
    assert [statuses[t.item_id] for t in thanks] == ["closed"] * 3
    assert statuses[complaint.item_id] == "open"


def test_a_batch_is_assigned_to_a_colleague_who_is_told(client: TestClient, runtime: Runtime) -> None:
    items = [ingest(runtime, email_message(RENT_QUESTION, subject="Rent", sender=f"r{n}@example.com")) for n in range(2)]
    with runtime.database.session() as session:
        create_user(session, username="mo", password=PASSWORD, role="triage", actor="test")
    signed_in(client, runtime, "tina", "triage")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/queues").text).group(1)  # type: ignore[union-attr]

    client.post("/staff/queues/bulk", data={"csrf_token": csrf, "action": "assign", "value_assign": "mo",
                                            "item_ids": [str(i.item_id) for i in items]})

    with runtime.database.session() as session:
        assert {session.get(Item, i.item_id).assigned_to for i in items} == {"mo"}  # type: ignore[union-attr]
        from models import StaffNotification

        assert len(session.scalars(select(StaffNotification).where(StaffNotification.username == "mo")).all()) == 2
