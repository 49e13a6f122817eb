"""The case page's "Other cases from this resident": the same email address or phone number, however
it was written, from the sender address or the contact on file; never this case, never a stranger's."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from intake.pipeline import ingest
from intake.resident_history import normalised_address
from intake.runtime import Runtime
from models import Item
from tests.factories import email_message, sms_message
from tests.web.conftest import signed_in

MOBILE = "+447911123456"


def _panel(page: str) -> str:
    match = re.search(r'<section aria-labelledby="resident-history-heading".*?</section>', page, re.S)
    assert match, "the case page has no resident history panel"
    return match.group(0)


def _reference(runtime: Runtime, item_id: int) -> str:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.reference
        return item.reference


def test_other_cases_from_the_same_email_or_phone_are_listed_and_nobody_elses(
    client: TestClient, runtime: Runtime
) -> None:
    boiler = ingest(runtime, email_message("The boiler has no pressure again, third time this winter.",
                                           subject="Boiler", sender="Pat.Resident@Example.com"))
    earlier = ingest(runtime, email_message("Can I have a copy of my tenancy agreement please?",
                                            subject="Tenancy agreement", sender="pat.resident@example.com"))
    stranger = ingest(runtime, email_message("The streetlight outside number 4 is out.", subject="Streetlight",
                                             sender="someone.else@example.com"))
    signed_in(client, runtime, "tina", "triage")

    panel = _panel(client.get(f"/staff/items/{boiler.item_id}").text)

    assert _reference(runtime, earlier.item_id) in panel  # the same address in other letter case
    assert "Tenancy agreement" in panel
    assert _reference(runtime, boiler.item_id) not in panel  # not this case itself
    assert _reference(runtime, stranger.item_id) not in panel


def test_a_phone_number_links_texts_to_each_other_however_it_was_written(
    client: TestClient, runtime: Runtime
) -> None:
    first = ingest(runtime, sms_message("my front door lock is broken, flat 2 birch house", phone=MOBILE))
    with runtime.database.session() as session:  # a separate case (closed), written in national form
        item = session.get(Item, first.item_id)
        assert item is not None
        item.case_status = "closed"
    second = ingest(runtime, sms_message("there is water coming through the ceiling from upstairs", phone=MOBILE))
    with runtime.database.session() as session:
        item = session.get(Item, second.item_id)
        assert item is not None
        if item.case_id is not None:  # a follow-up joins its case; this test wants two cases
            item.case_id = None
        item.sender_address = "07911 123456"
    signed_in(client, runtime, "tina", "triage")

    panel = _panel(client.get(f"/staff/items/{second.item_id}").text)

    assert _reference(runtime, first.item_id) in panel
    assert "Closed" in panel or "closed" in panel


def test_a_resident_with_no_other_cases_is_told_so(client: TestClient, runtime: Runtime) -> None:
    only = ingest(runtime, email_message("Please can you cut back the hedge by the car park?", sender="new@example.com"))
    signed_in(client, runtime, "tina", "triage")
    assert "No other cases from this email address or phone number." in _panel(
        client.get(f"/staff/items/{only.item_id}").text
    )


def test_addresses_are_compared_in_one_form() -> None:
    assert normalised_address(" Pat@Example.COM ") == ("pat@example.com", None)
    assert normalised_address("07911 123456") == (None, "+447911123456")
    assert normalised_address("+44 7911 123456") == (None, "+447911123456")
    assert normalised_address("not an address") == (None, None)
    assert normalised_address(None) == (None, None)
