"""The not_for_triage (junk) view: set-aside messages listed on their own with a count per day, and
kept out of "All open cases" (a search still finds one)."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from intake.pipeline import ingest
from intake.runtime import Runtime
from models import Item
from tests.factories import email_message
from tests.web.conftest import signed_in


def _rows(page: str) -> list[str]:
    return re.findall(r"data-item-link>([^<]+)<", page)


def _make_junk(runtime: Runtime, item_id: int, *, days_ago: int = 0) -> str:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.reference
        item.queue = "not_for_triage"
        item.received_at = runtime.clock.now() - timedelta(days=days_ago)
        return item.reference


def test_junk_has_its_own_view_with_a_count_per_day_and_stays_out_of_the_work(
    client: TestClient, runtime: Runtime
) -> None:
    today = [ingest(runtime, email_message(f"Cheap watches {n}! Click here to claim your prize", subject="WIN",
                                           sender=f"promo{n}@spam.example")) for n in range(2)]
    older = ingest(runtime, email_message("Your parcel is waiting, pay the fee now", subject="Parcel",
                                          sender="parcel@spam.example"))
    work = ingest(runtime, email_message("The kitchen tap is dripping, please can someone come?",
                                         subject="Tap", sender="pat@example.com"))
    junk_refs = [_make_junk(runtime, item.item_id) for item in today]
    old_ref = _make_junk(runtime, older.item_id, days_ago=3)
    signed_in(client, runtime, "tina", "triage")

    everything = client.get("/staff/queues").text
    assert not set(junk_refs + [old_ref]) & set(_rows(everything))
    assert re.search(r'id="junk-link".*?<span class="count">3</span>', everything, re.S)
    assert '<span class="secondary body-s" id="junk-today">2 today</span>' in everything

    junk = client.get("/staff/queues/not_for_triage").text
    assert set(_rows(junk)) == set(junk_refs + [old_ref])
    per_day = re.search(r'<table class="table body-s" id="junk-per-day">.*?</table>', junk, re.S)
    assert per_day is not None
    counts = [int(n) for n in re.findall(r"<td>(\d+)</td></tr>", per_day.group(0))]
    assert len(counts) == 14 and counts[0] == 2 and counts[3] == 1 and sum(counts) == 3

    # A search from "All open cases" still finds a resident's message filed as junk.
    assert _rows(client.get("/staff/queues", params={"q": "parcel fee"}).text) == [old_ref]
    assert work.item_id  # the real case is still listed
    with runtime.database.session() as session:
        reference = session.get(Item, work.item_id).reference  # type: ignore[union-attr]
    assert reference in _rows(everything)
