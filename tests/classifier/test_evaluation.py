"""Scoring: the report's keys and numbers, checked on hand-made predictions."""

from __future__ import annotations

import pytest

from classifier.data import LabelledExample
from classifier.evaluation_metrics import REPORT_KEYS, Predicted, most_confused, score


def _example(item_id: str, item_type: str, queue: str, categories=(), flags=()) -> LabelledExample:
    return LabelledExample(id=item_id, body="x", type=item_type, queue=queue, categories=tuple(categories),
                           flags=tuple(flags))


EXAMPLES = [
    _example("1", "complaint", "complaints", ["delay"], ["urgent_safety"]),
    _example("2", "complaint", "complaints", ["delay", "cost"]),
    _example("3", "enquiry", "enquiries"),
    _example("4", "service_request", "service_requests"),
]
PREDICTIONS = [
    Predicted("complaint", ["delay"], ["urgent_safety"], "emergency"),  # wrong queue: truth says complaints
    Predicted("complaint", ["delay"], [], "complaints"),
    Predicted("complaint", ["cost"], ["abusive"], "triage_review"),
    Predicted(None, [], [], "triage_review"),
]


def test_report_has_exactly_the_agreed_keys() -> None:
    report = score(EXAMPLES, PREDICTIONS, seconds=2.0)
    assert tuple(report) == REPORT_KEYS


def test_type_numbers() -> None:
    report = score(EXAMPLES, PREDICTIONS, seconds=2.0)
    assert report["n"] == 4
    assert report["type_accuracy"] == 0.5
    complaint = report["per_type"]["complaint"]
    assert complaint == {"precision": pytest.approx(0.6667, abs=1e-4), "recall": 1.0,
                         "f1": pytest.approx(0.8, abs=1e-4), "support": 2}
    assert report["complaint_f1"] == pytest.approx(0.8)
    assert report["confusion"]["service_request"] == {"unclassified": 1}
    assert report["confusion"]["enquiry"] == {"complaint": 1}
    assert report["items_per_second"] == 2.0


def test_category_numbers_are_over_all_items() -> None:
    report = score(EXAMPLES, PREDICTIONS)
    # truth: delay, delay, cost; predicted: delay, delay, cost (on the enquiry: a false positive)
    assert report["per_category"]["delay"]["f1"] == 1.0
    assert report["per_category"]["cost"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["category_micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1), abs=1e-4)


def test_flags_and_queues() -> None:
    report = score(EXAMPLES, PREDICTIONS)
    assert report["flag_recall"]["urgent_safety"] == 1.0
    assert report["flag_f1"]["abusive"] == 0.0
    assert report["flag_f1"]["ombudsman"] == 1.0  # nothing to find, nothing wrongly found
    assert report["queue_accuracy"] == 0.25
    assert report["automation_rate"] == 0.5
    assert report["routed_queue_accuracy"] == 0.5


def test_most_confused_lists_the_off_diagonal() -> None:
    report = score(EXAMPLES, PREDICTIONS)
    assert ("enquiry", "complaint", 1) in most_confused(report)


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        score(EXAMPLES, PREDICTIONS[:2])
