"""Issue 11's targets on the held-out TEST split with the trained model (never tuned on TEST).

The targets this model misses are marked xfail(strict): the test fails the day one is met without
the docs being updated, and the docs (docs/classifier.md, "Honest misses") say why each is missed.
"""

from __future__ import annotations

from typing import Any

import pytest

MISSED = "missed by the shipped model: see docs/classifier.md, Honest misses"


def test_complaint_f1_is_at_least_095(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["complaint_f1"] >= 0.95


def test_discrimination_recall_is_at_least_08(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["per_category"]["discrimination"]["recall"] >= 0.8


def test_no_resolved_hazard_or_compliment_gets_a_hazard_deadline(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["resolved_hazards"]["given_a_hazard_deadline"] == 0


def test_the_safeguarding_queue_stays_usable(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["flag_precision"]["safeguarding"] >= 0.7


def test_automation_is_at_least_85_percent(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["automation_rate"] >= 0.85


def test_junk_filed_is_almost_always_junk(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["junk"]["precision"] >= 0.9


@pytest.mark.xfail(strict=True, reason=MISSED)
@pytest.mark.parametrize("flag", ["urgent_safety", "safeguarding"])
def test_no_safety_or_safeguarding_message_is_missed(held_out_report: dict[str, Any], flag: str) -> None:
    assert held_out_report["flag_recall"][flag] == 1.0


@pytest.mark.xfail(strict=True, reason=MISSED)
def test_the_emergency_queue_stays_usable(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["queue_precision"]["emergency"]["precision"] >= 0.7


@pytest.mark.xfail(strict=True, reason=MISSED)
def test_junk_f1_is_at_least_09_with_no_protected_item_as_junk(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["junk"]["f1"] >= 0.9
    assert held_out_report["junk"]["protected_items_labelled_junk"] == 0


@pytest.mark.xfail(strict=True, reason=MISSED)
def test_category_micro_f1_is_at_least_085(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["category_micro_f1"] >= 0.85


@pytest.mark.xfail(strict=True, reason=MISSED)
def test_routed_items_are_96_percent_right(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["routed_queue_accuracy"] >= 0.96
