"""Finding 2: highlighting is linear in the message's length, so no message can hold a core."""

from __future__ import annotations

import time

import pytest

from intake.pipeline import ingest
from intake.runtime import Runtime
from intake.web import staff_items
from intake.web.highlight import MAX_MARKS, Term, highlight
from tests.factories import email_message
from tests.security.conftest import staff_client


def test_a_long_message_full_of_keywords_highlights_in_linear_time() -> None:
    # 300 KB of one keyword: tens of thousands of matches (the quadratic version took minutes).
    text = "damp mould " * 30_000
    terms = [Term("mould", "rule", "rule hazard → damp_mould"), Term("damp mould", "term", "weight 1.2")]
    started = time.perf_counter()
    html = str(highlight(text, terms))
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"highlighting took {elapsed:.1f}s"
    assert html.count("<mark") == MAX_MARKS


def test_overlapping_terms_still_resolve_with_rules_first_and_everything_escaped() -> None:
    html = str(highlight("<b>black mould</b> in the bathroom", [Term("black mould", "term", "w"), Term("mould", "rule", "r")]))
    assert html.startswith("&lt;b&gt;black ")
    assert '<mark class="rule" title="r">mould</mark>' in html
    assert 'class="term"' not in html  # the term overlapped the rule's span, so it lost


def test_the_item_page_renders_with_no_database_connection_held(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # On SQLite an open session holds the write lock: rendering a long message inside one once made
    # the sweeper fail with "database is locked". A spy (it calls the real render) notes what is held.
    held_while_rendering: list[int] = []
    real_render = staff_items.render

    def spying_render(*args, **kwargs):  # type: ignore[no-untyped-def]
        held_while_rendering.append(runtime.database.engine.pool.checkedout())
        return real_render(*args, **kwargs)

    monkeypatch.setattr(staff_items, "render", spying_render)
    item = ingest(runtime, email_message("There is black mould in the bedroom and the children are coughing."))
    with staff_client(runtime, "tina", "triage") as browser:
        assert browser.get(f"/staff/items/{item.item_id}").status_code == 200
    assert held_while_rendering == [0]
