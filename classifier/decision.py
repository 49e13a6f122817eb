"""From model outputs and rule hits to the labels and the queue: the one place the decision is made.

Training (cross-validated predictions), evaluation and `classify()` all decide through `decide()`,
so the thresholds chosen in training are measured exactly as they will be used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from classifier.model import TriageModel
from classifier.rule_layer import route
from triage_rules.hits import RuleHit
from triage_rules.rules import flags_from
from triage_rules.taxonomy import FLAGS, REVIEW_QUEUE


@dataclass(frozen=True)
class Decision:
    type: str | None
    confidence: float
    categories: list[str]
    flags: list[str]
    queue: str
    review_reason: str | None
    routing_reason: str | None = None


def ordered_flags(flags: set[str]) -> list[str]:
    return [flag for flag in FLAGS if flag in flags] + sorted(flags - set(FLAGS))


def decide(
    model: TriageModel,
    *,
    type_probabilities: np.ndarray,
    category_probabilities: np.ndarray,
    model_flags: Mapping[str, float],
    hits: Sequence[RuleHit],
    review_threshold: float,
) -> Decision:
    best = int(np.argmax(type_probabilities))
    item_type = model.types[best]
    confidence = float(type_probabilities[best])
    categories = model.choose_categories(category_probabilities) if item_type == "complaint" else []
    flags = ordered_flags(set(flags_from(hits)) | set(model_flags))
    confident = confidence >= review_threshold
    routing = route(item_type, flags, confident=confident)
    reason = None
    if routing.queue == REVIEW_QUEUE:
        reason = f"confidence {confidence:.2f} is below the review threshold {review_threshold:.2f}: {routing.reason}"
    return Decision(item_type, confidence, categories, flags, routing.queue, reason, routing.reason)


def decide_unusable(hits: Sequence[RuleHit], reason: str) -> Decision:
    """Nothing to classify: a person looks at it — unless a rule saw a safety risk (e.g. in the subject)."""
    flags = ordered_flags(set(flags_from(hits)))
    routing = route(None, flags, confident=False)
    review_reason = reason if routing.queue == REVIEW_QUEUE else None
    return Decision(None, 0.0, [], flags, routing.queue, review_reason, routing.reason)
