"""Issue 11's targets on the held-out TEST split with the trained model (thresholds chosen on TRAIN only).

A target the shipped model meets is a plain assertion. One it misses is xfail(strict) with the
measured figure in the reason: the test fails the day it is met without the docs being updated,
and docs/classifier.md ("Honest misses") says why it is missed. Caveat (also in the docs): the
kinds of TEST misses were read during development, so TEST is not fully held out any more; the
fresh check set (data/fresh/check.jsonl) is the unseen check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from classifier import Classifier


def missed(figure: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"missed by the shipped model ({figure}): see docs/classifier.md")


def test_complaint_f1_is_at_least_095(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["complaint_f1"] >= 0.95


def test_discrimination_recall_is_at_least_08(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["per_category"]["discrimination"]["recall"] >= 0.8


def test_no_resolved_hazard_or_compliment_gets_a_hazard_deadline(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["resolved_hazards"]["given_a_hazard_deadline"] == 0


def test_automation_is_at_least_85_percent(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["automation_rate"] >= 0.85


@pytest.mark.parametrize("flag", ["urgent_safety", "safeguarding"])
def test_no_safety_or_safeguarding_message_is_missed(held_out_report: dict[str, Any], flag: str) -> None:
    assert held_out_report["flag_recall"][flag] == 1.0


def test_no_complaint_safety_or_safeguarding_item_is_labelled_junk(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["junk"]["protected_items_labelled_junk"] == 0


def test_junk_filed_is_almost_always_junk(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["junk"]["precision"] >= 0.9


def test_urgent_safety_flags_are_mostly_right(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["flag_precision"]["urgent_safety"] >= 0.7


def test_the_safeguarding_queue_stays_usable(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["flag_precision"]["safeguarding"] >= 0.7


def test_the_emergency_queue_stays_usable(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["queue_precision"]["emergency"]["precision"] >= 0.7


def test_junk_f1_is_at_least_09(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["junk"]["f1"] >= 0.9


@missed("category micro-F1 0.798 (0.780 before the seventh session; CV TRAIN 0.804); two people agree at 0.850")
def test_category_micro_f1_is_at_least_085(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["category_micro_f1"] >= 0.85


@missed("routed items right 0.942 at automation 0.880: 32 of the 36 wrong are safety/safeguarding false "
        "alarms routed whatever the confidence, so 0.954 at most even at 100% automation")
def test_routed_items_are_96_percent_right(held_out_report: dict[str, Any]) -> None:
    assert held_out_report["routed_queue_accuracy"] >= 0.96


def test_a_door_that_cannot_be_secured_after_a_break_in_reaches_the_emergency_queue(
    trained_model_dir: Path,
) -> None:
    # The lead's decision for issue 11 (docs/taxonomy.md): an external door that will not lock after
    # an attempted break-in, with a baby at home, is urgent_safety (fresh-006 of data/fresh/check.jsonl).
    classifier = Classifier.load(trained_model_dir)
    result = classifier.classify(
        "Someone tried to kick my front door in last night and the frame is split, it won't lock now. "
        "I live alone with my baby and I'm terrified they'll come back tonight. 31 Mill Lane",
        channel="email", subject="Front door",
    )
    assert "urgent_safety" in result.flags
    assert result.queue == "emergency"


def test_a_stiff_lock_with_no_one_at_risk_is_a_routine_repair(trained_model_dir: Path) -> None:
    classifier = Classifier.load(trained_model_dir)
    result = classifier.classify("My back door is a bit stiff to lock since the cold weather, could someone "
                                 "have a look? 12 Pine Close", channel="web_form")
    assert "urgent_safety" not in result.flags
    assert result.queue != "emergency"


def test_nobody_at_risk_is_missed_in_messages_written_blind(trained_model_dir: Path) -> None:
    # data/fresh/check2.jsonl, check3.jsonl and check4.jsonl: 270 messages by three writers who saw
    # only the taxonomy, never read by anyone changing the classifier (75 safeguarding, 67
    # urgent_safety). A floor, not the target (recall 1.0): on check2 and check3 at main before the
    # blind training data, 0.62 and 0.825.
    from classifier.data import load_examples
    from classifier.evaluation_run import evaluate_classifier

    fresh = Path(__file__).resolve().parents[2] / "data" / "fresh"
    written_blind = [fresh / "check2.jsonl", fresh / "check3.jsonl", fresh / "check4.jsonl"]
    report = evaluate_classifier(Classifier.load(trained_model_dir), load_examples(written_blind))
    assert report["flag_recall"]["safeguarding"] >= 0.9
    assert report["flag_recall"]["urgent_safety"] >= 0.9
    assert report["junk"]["protected_items_labelled_junk"] == 0


def test_at_risk_messages_written_blind_reach_a_person_the_same_day(trained_model_dir: Path) -> None:
    # The blind writers' sets (check2-4, and check6-8: long emails, calls, disclosures in passing), 270
    # messages with a safeguarding or urgent_safety label: the share that reaches the emergency or
    # safeguarding queue, whichever flag got it there. 216 of 225 when written (check2-7); 261 of 270 since
    # the long-form training data and check8 (docs/classifier_safeguarding.md).
    from classifier.data import load_examples

    fresh = Path(__file__).resolve().parents[2] / "data" / "fresh"
    examples = load_examples([fresh / f"check{number}.jsonl" for number in (2, 3, 4, 6, 7, 8)])
    at_risk = [example for example in examples if {"safeguarding", "urgent_safety"} & set(example.flags)]
    results = Classifier.load(trained_model_dir).classify_many(at_risk)
    reached = sum(result.queue in {"emergency", "safeguarding"} for result in results)
    assert len(at_risk) == 270
    assert reached / len(at_risk) >= 0.95
