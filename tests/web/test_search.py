"""Search in the workspace: every word of every message (follow-ups too) through the full-text index
(SQLite FTS5 / PostgreSQL tsvector, migration 0011), phone numbers however typed, short references."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from intake.pipeline import ingest
from intake.runtime import Runtime
from intake.search import phone_forms, reference_item_id, words_of
from models import Item
from tests.factories import email_message, sms_message
from tests.web.conftest import signed_in

DOOR = "hi can someone fix my back door it wont lock. flat 3 ash court"
CHASER = "its for my mum Philippa Quested, she cant get out, the radiator is leaking too"
RENT = "Could you send me a copy of my rent statement for 2025/26 please? I need it for a benefit claim."
MOBILE = "+447911123456"  # a valid UK mobile number (not the 07700 900xxx drama range phonenumbers calls invalid)


def _rows(page: str) -> list[str]:
    return re.findall(r"data-item-link>([^<]+)<", page)


def _reference(runtime: Runtime, item_id: int) -> str:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.reference
        return item.reference


def _search(client: TestClient, term: str) -> list[str]:
    response = client.get("/staff/queues", params={"q": term})
    assert response.status_code == 200, response.text
    return _rows(response.text)


def test_words_of_a_follow_up_find_its_case_and_a_word_finds_its_other_forms(
    client: TestClient, runtime: Runtime
) -> None:
    door = ingest(runtime, sms_message(DOOR, phone=MOBILE))
    chaser = ingest(runtime, sms_message(CHASER, phone=MOBILE))
    rent = ingest(runtime, email_message(RENT, subject="Rent statement", sender="tom@example.com"))
    with runtime.database.session() as session:
        assert session.get(Item, chaser.item_id).case_id == door.item_id  # type: ignore[union-attr]
    signed_in(client, runtime, "tina", "triage")
    door_ref, rent_ref = _reference(runtime, door.item_id), _reference(runtime, rent.item_id)

    assert _search(client, "Quested") == [door_ref]  # only in the follow-up
    assert _search(client, "quested philippa") == [door_ref]  # every word, in any order
    assert _search(client, "leak") == [door_ref]  # "leaking" in the message
    assert _search(client, "statem") == [rent_ref]  # the start of a word
    assert _search(client, "tom@example.com") == [rent_ref]  # the sender
    assert _search(client, "quested rent") == []  # every word must be there
    assert _search(client, "radiator plumber") == []


@pytest.mark.parametrize("typed", ['"door" OR 1=1', "door*) NEAR(", "'; DROP TABLE items; --", "***", "%_"])
def test_search_syntax_typed_into_the_box_is_only_ever_words(
    client: TestClient, runtime: Runtime, typed: str
) -> None:
    door = ingest(runtime, sms_message(DOOR, phone=MOBILE))
    signed_in(client, runtime, "tina", "triage")
    found = _search(client, typed)  # never a 500, whatever the database's query language makes of it
    assert found in ([], [_reference(runtime, door.item_id)])


def test_the_index_follows_the_text_when_it_changes(client: TestClient, runtime: Runtime) -> None:
    """The database keeps the index current (triggers on SQLite, an expression index on PostgreSQL),
    so an erasure or any other rewrite of the words is searched as it is now."""
    door = ingest(runtime, sms_message(DOOR, phone=MOBILE))
    signed_in(client, runtime, "tina", "triage")
    assert _search(client, "ash court") == [_reference(runtime, door.item_id)]
    with runtime.database.session() as session:
        item = session.get(Item, door.item_id)
        assert item is not None
        item.body = "[erased]"
    assert _search(client, "ash court") == []
    assert _search(client, "erased") == [_reference(runtime, door.item_id)]


@pytest.mark.parametrize("typed", ["07911 123456", "07911123456", "+44 7911 123456", "+447911123456", "447911123456",
                                   "(07911) 123 456"])
def test_a_phone_number_however_typed_finds_the_resident(client: TestClient, runtime: Runtime, typed: str) -> None:
    text_message = ingest(runtime, sms_message(DOOR, phone=MOBILE))
    ingest(runtime, sms_message(RENT, phone="+447911654321"))
    signed_in(client, runtime, "tina", "triage")
    assert _search(client, typed) == [_reference(runtime, text_message.item_id)]


def test_a_phone_number_finds_a_form_where_the_resident_gave_it_as_their_mobile(
    client: TestClient, runtime: Runtime
) -> None:
    """The contact form keeps the mobile on the contact, not as a sender address (an email reply may be chosen)."""
    from tests.web.conftest import post_contact

    response = post_contact(client, reply_by="sms", email="", mobile="07911 123456", message=DOOR + " please call")
    assert response.status_code in (200, 303), response.text
    signed_in(client, runtime, "tina", "triage")
    with runtime.database.session() as session:
        form_item = session.query(Item).filter(Item.channel == "web_form").one()
        reference = form_item.reference
    assert _search(client, "+447911123456") == [reference]


def test_a_short_reference_finds_its_case(client: TestClient, runtime: Runtime) -> None:
    door = ingest(runtime, sms_message(DOOR, phone=MOBILE))
    chaser = ingest(runtime, sms_message(CHASER, phone=MOBILE))
    signed_in(client, runtime, "tina", "triage")
    reference = _reference(runtime, door.item_id)  # e.g. REF-2026-000001
    prefix, year, number = reference.split("-")
    short = f"{prefix.lower()}-{year}-{int(number)}"
    for typed in (reference, reference.lower(), short, f"{prefix}{year}{int(number)}", f"cmp-{year}-{int(number)}"):
        assert _search(client, typed) == [reference], typed
    # A follow-up's own reference (when it has one) or number finds the case it belongs to.
    assert _search(client, f"ref-{year}-{chaser.item_id}") == [reference]


def test_readings_of_what_was_typed() -> None:
    assert reference_item_id("cmp-2026-472") == 472
    assert reference_item_id("CMP-2026-000472") == 472
    assert reference_item_id("REF 2026 472") == 472
    assert reference_item_id("may 2026 12") is None  # a date stays words
    assert phone_forms("07911 123456") == ["+447911123456", "07911123456"]
    assert phone_forms("447911123456")[0] == "+447911123456"
    assert phone_forms("flat 12, 2026") == []
    assert phone_forms("2026") == []
    assert words_of('"boiler" OR leak*') == ["boiler", "or", "leak"]


def test_the_embedded_database_searches_through_its_fts5_index(runtime: Runtime) -> None:
    if runtime.database.engine.dialect.name != "sqlite":
        with runtime.database.engine.connect() as connection:
            found = connection.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_items_search'")).scalar()
        assert found and "gin" in found.lower() and "to_tsvector" in found
        return
    ingest(runtime, sms_message(DOOR, phone=MOBILE))
    with runtime.database.engine.connect() as connection:
        hits = connection.execute(text("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'court'")).scalar()
    assert hits == 1
