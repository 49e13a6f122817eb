"""Finding 2: highlighting is linear in the message's length, so no message can hold a core."""

from __future__ import annotations

import time

from intake.web.highlight import MAX_MARKS, Term, highlight


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
