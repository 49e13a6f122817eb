"""Scoring predictions against labelled data: the numbers `intake evaluate` prints and writes.

The JSON report has exactly the keys listed in REPORT_KEYS. Conventions: a label with no support
and no predictions scores 1.0 (nothing to find, nothing wrongly found); an item the classifier
could not read (type None) counts as "unclassified" and is wrong on type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from classifier.data import LabelledExample
from triage_rules.taxonomy import CATEGORIES, FLAGS, REVIEW_QUEUE, TYPES

REPORT_KEYS = (
    "n", "type_accuracy", "type_macro_f1", "complaint_f1", "per_type", "category_micro_f1",
    "category_macro_f1", "per_category", "flag_f1", "flag_recall", "queue_accuracy", "automation_rate",
    "routed_queue_accuracy", "confusion", "items_per_second",
)
UNCLASSIFIED = "unclassified"


class PredictedLabels(Protocol):
    """What is scored: a Classification has these, so does a cross-validated prediction."""

    @property
    def type(self) -> str | None: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def flags(self) -> list[str]: ...
    @property
    def queue(self) -> str: ...


@dataclass(frozen=True)
class Predicted:
    type: str | None
    categories: list[str]
    flags: list[str]
    queue: str


@dataclass(frozen=True)
class Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def support(self) -> int:
        return self.true_positive + self.false_negative

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else (1.0 if not self.support else 0.0)

    @property
    def recall(self) -> float:
        return self.true_positive / self.support if self.support else (1.0 if not self.false_positive else 0.0)

    @property
    def f1(self) -> float:
        denominator = 2 * self.true_positive + self.false_positive + self.false_negative
        return 2 * self.true_positive / denominator if denominator else 1.0

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "support": self.support}


def _set_counts(pairs: Iterable[tuple[set[str], set[str]]], labels: Sequence[str]) -> dict[str, Counts]:
    tallies = {label: [0, 0, 0] for label in labels}
    for truth, predicted in pairs:
        for label in truth | predicted:
            tally = tallies.setdefault(label, [0, 0, 0])
            if label in truth and label in predicted:
                tally[0] += 1
            elif label in predicted:
                tally[1] += 1
            else:
                tally[2] += 1
    return {label: Counts(*tally) for label, tally in tallies.items()}


def _micro_f1(counts: Iterable[Counts]) -> float:
    total = Counts(*map(sum, zip(*((c.true_positive, c.false_positive, c.false_negative) for c in counts),
                                 strict=True)))
    return total.f1


def score(
    examples: Sequence[LabelledExample], predictions: Sequence[PredictedLabels], *, seconds: float | None = None
) -> dict[str, Any]:
    if len(examples) != len(predictions):
        raise ValueError("examples and predictions differ in length")
    n = len(examples)
    predicted_types = [prediction.type or UNCLASSIFIED for prediction in predictions]
    type_counts = _set_counts(
        (({example.type}, {predicted}) for example, predicted in zip(examples, predicted_types, strict=True)),
        TYPES,
    )
    type_labels = [label for label in TYPES] + sorted(
        label for label in type_counts if label not in TYPES and type_counts[label].support
    )
    per_type = {label: type_counts[label].as_dict() for label in type_labels}
    scored_types = [label for label in type_labels if type_counts[label].support]
    confusion: dict[str, dict[str, int]] = {}
    for example, predicted in zip(examples, predicted_types, strict=True):
        row = confusion.setdefault(example.type, {})
        row[predicted] = row.get(predicted, 0) + 1

    category_counts = _set_counts(
        ((set(example.categories), set(prediction.categories))
         for example, prediction in zip(examples, predictions, strict=True)),
        CATEGORIES,
    )
    used_categories = [label for label, counts in category_counts.items()
                       if counts.support or counts.false_positive]
    flag_counts = _set_counts(
        ((set(example.flags), set(prediction.flags)) for example, prediction in zip(examples, predictions, strict=True)),
        FLAGS,
    )
    with_queue = [(example.queue, prediction.queue)
                  for example, prediction in zip(examples, predictions, strict=True) if example.queue]
    routed = [(truth, queue) for truth, queue in with_queue if queue != REVIEW_QUEUE]
    queues = [prediction.queue for prediction in predictions]
    return {
        "n": n,
        "type_accuracy": _ratio(sum(e.type == p for e, p in zip(examples, predicted_types, strict=True)), n),
        "type_macro_f1": _mean(type_counts[label].f1 for label in scored_types),
        "complaint_f1": round(type_counts["complaint"].f1, 4),
        "per_type": per_type,
        "category_micro_f1": round(_micro_f1(category_counts.values()), 4),
        "category_macro_f1": _mean(category_counts[label].f1 for label in used_categories),
        "per_category": {label: category_counts[label].as_dict() for label in category_counts},
        "flag_f1": {flag: round(counts.f1, 4) for flag, counts in flag_counts.items()},
        "flag_recall": {flag: round(counts.recall, 4) for flag, counts in flag_counts.items()},
        "queue_accuracy": _ratio(sum(truth == queue for truth, queue in with_queue), len(with_queue)),
        "automation_rate": _ratio(sum(queue != REVIEW_QUEUE for queue in queues), n),
        "routed_queue_accuracy": _ratio(sum(truth == queue for truth, queue in routed), len(routed)),
        "confusion": confusion,
        "items_per_second": round(n / seconds, 1) if seconds and seconds > 0 else None,
    }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def most_confused(report: dict[str, Any], top: int = 5) -> list[tuple[str, str, int]]:
    pairs = Counter(
        {(truth, predicted): count for truth, row in report["confusion"].items()
         for predicted, count in row.items() if truth != predicted}
    )
    return [(truth, predicted, count) for (truth, predicted), count in pairs.most_common(top)]
