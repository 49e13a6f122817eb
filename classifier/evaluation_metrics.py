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
from triage_rules.taxonomy import CATEGORIES, FLAGS, JUNK, JUNK_QUEUE, REVIEW_QUEUE, TYPES

REPORT_KEYS = (
    "n", "type_accuracy", "type_macro_f1", "complaint_f1", "per_type", "category_micro_f1",
    "category_macro_f1", "per_category", "flag_f1", "flag_recall", "queue_accuracy", "automation_rate",
    "routed_queue_accuracy", "confusion", "items_per_second", "flag_precision", "queue_precision", "junk",
    "resolved_hazards",
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
    hazard_state: str = "none"


# Items that must never be filed as junk: a complaint, or anything with a safety or safeguarding flag.
PROTECTED_FLAGS = frozenset({"urgent_safety", "safeguarding"})


def _label(prediction: PredictedLabels) -> str:
    """The predicted type, "junk" for the junk outcome, "unclassified" when nothing could be read."""
    if prediction.queue == JUNK_QUEUE:
        return JUNK
    return prediction.type or UNCLASSIFIED


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
    predicted_types = [_label(prediction) for prediction in predictions]
    type_counts = _set_counts(
        (({example.type}, {predicted}) for example, predicted in zip(examples, predicted_types, strict=True)),
        TYPES,
    )
    type_labels = [label for label in TYPES] + sorted(
        label for label in type_counts if label not in TYPES and type_counts[label].support
    )
    per_type = {label: type_counts[label].as_dict() for label in type_labels}
    # Junk is scored on its own ("junk" below), not as a sixth type in the macro-F1.
    scored_types = [label for label in type_labels if type_counts[label].support and label != JUNK]
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
        "flag_precision": {flag: round(counts.precision, 4) for flag, counts in flag_counts.items()},
        "queue_precision": _queue_precision(with_queue),
        "junk": _junk_report(examples, predicted_types),
        "resolved_hazards": _resolved_hazards(examples, predictions),
    }


def _queue_precision(pairs: Sequence[tuple[str | None, str]]) -> dict[str, dict[str, float | int]]:
    """For each queue items were sent to: how many, and the share that belonged there."""
    sent = Counter(queue for _, queue in pairs)
    right = Counter(queue for truth, queue in pairs if truth == queue)
    return {queue: {"sent": count, "precision": _ratio(right[queue], count)} for queue, count in sorted(sent.items())}


def _junk_report(examples: Sequence[LabelledExample], predicted: Sequence[str]) -> dict[str, Any]:
    """Junk precision / recall / F1, and the protected items (complaints, safety, safeguarding) filed as junk."""
    counts = Counts(
        sum(e.type == JUNK and p == JUNK for e, p in zip(examples, predicted, strict=True)),
        sum(e.type != JUNK and p == JUNK for e, p in zip(examples, predicted, strict=True)),
        sum(e.type == JUNK and p != JUNK for e, p in zip(examples, predicted, strict=True)),
    )
    protected = [e.id for e, p in zip(examples, predicted, strict=True)
                 if p == JUNK and (e.type == "complaint" or PROTECTED_FLAGS & set(e.flags))]
    return {**counts.as_dict(), "protected_items_labelled_junk": len(protected), "protected_ids": protected[:20]}


def _resolved_hazards(examples: Sequence[LabelledExample], predictions: Sequence[PredictedLabels]) -> dict[str, Any]:
    """Resolved hazards and compliments that were given a live hazard (so a deadline): should be none."""
    resolved = [(e, p) for e, p in zip(examples, predictions, strict=True)
                if e.hazard_state == "resolved" or e.type == "compliment"]
    live = [e.id for e, p in resolved if getattr(p, "hazard_state", "none") == "live"]
    return {"n": len(resolved), "labelled_resolved": sum(e.hazard_state == "resolved" for e, _ in resolved),
            "given_a_hazard_deadline": len(live), "ids": live[:20]}


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
