"""From model outputs and rule hits to the labels and the queue: the one place the decision is made.

Training (cross-validated predictions), evaluation and `classify()` all decide through `decide()`,
so the thresholds chosen in training are measured exactly as they will be used.

Order: type (with junk held back when any safety, safeguarding or complaint signal is present) →
flags (rules OR flag models) → hazard state (a resolved hazard is not an emergency) → route.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from classifier.hazard import NONE, hazard_state
from classifier.model import TriageModel
from classifier.rule_layer import route
from triage_rules.hits import RuleHit
from triage_rules.rules import category_hints_from, flags_from, type_hints_from
from triage_rules.taxonomy import FLAGS, JUNK, REVIEW_QUEUE

# Flags that make an item something a person must see: it is never junk. A message not in
# English is one the model cannot read (it has learnt junk from English only): it goes for
# translation, never to not_for_triage.
PROTECTING_FLAGS = frozenset({"urgent_safety", "safeguarding", "non_english"})
# A complaint this likely is a complaint signal: the item is classified, not filed as junk.
JUNK_COMPLAINT_FLOOR = 0.15
# Categories a rule hint adds to a complaint on its own: discrimination is the category most often
# implied rather than named, and the one a miss costs most (rules/discrimination.yaml).
RULE_CATEGORIES = frozenset({"discrimination"})


@dataclass(frozen=True)
class Decision:
    type: str | None
    confidence: float
    categories: list[str]
    flags: list[str]
    queue: str
    review_reason: str | None
    routing_reason: str | None = None
    junk: bool = False
    hazard_state: str = NONE
    hazard_reason: str | None = None


def ordered_flags(flags: set[str]) -> list[str]:
    return [flag for flag in FLAGS if flag in flags] + sorted(flags - set(FLAGS))


def junk_blocked_by(
    flags: set[str], hits: Sequence[RuleHit], complaint_probability: float
) -> str | None:
    """Why an item the model thinks is junk must be classified after all (None: nothing stops it)."""
    protecting = sorted(flags & PROTECTING_FLAGS)
    if protecting:
        return f"flag {protecting[0]}"
    if "complaint" in type_hints_from(hits):
        return "a complaint cue"
    if complaint_probability >= JUNK_COMPLAINT_FLOOR:
        return f"complaint probability {complaint_probability:.2f}"
    return None


def decide(
    model: TriageModel,
    *,
    type_probabilities: np.ndarray,
    category_probabilities: np.ndarray,
    model_flags: Mapping[str, float],
    hits: Sequence[RuleHit],
    review_threshold: float,
) -> Decision:
    flag_set = set(flags_from(hits)) | set(model_flags)
    order = [int(index) for index in np.argsort(-type_probabilities, kind="stable")]
    best = order[0]
    junk = False
    if model.types[best] == JUNK:
        complaint = model.types.index("complaint") if "complaint" in model.types else None
        blocked = junk_blocked_by(flag_set, hits, float(type_probabilities[complaint]) if complaint is not None else 0.0)
        if blocked is None:
            junk = True
        else:
            best = next((index for index in order if model.types[index] != JUNK), best)
    item_type = None if junk else model.types[best]
    confidence = float(type_probabilities[best])
    categories = model.choose_categories(category_probabilities) if item_type == "complaint" else []
    if item_type == "complaint":
        hinted = [name for name in category_hints_from(hits) if name in RULE_CATEGORIES and name not in categories]
        categories = [name for name in model.categories if name in {*categories, *hinted}]
    hazard = hazard_state(hits, flag_set, item_type)
    flags = ordered_flags(flag_set - hazard.drop_flags)
    confident = confidence >= review_threshold
    routing = route(item_type, flags, confident=confident, junk=junk)
    reason = None
    if routing.queue == REVIEW_QUEUE:
        reason = f"confidence {confidence:.2f} is below the review threshold {review_threshold:.2f}: {routing.reason}"
    return Decision(item_type, confidence, categories, flags, routing.queue, reason, routing.reason, junk,
                    hazard.state, hazard.reason)


def decide_unusable(hits: Sequence[RuleHit], reason: str) -> Decision:
    """Nothing to classify: a person looks at it — unless a rule saw a safety risk (e.g. in the subject)."""
    flags = ordered_flags(set(flags_from(hits)))
    hazard = hazard_state(hits, flags, None)
    routing = route(None, flags, confident=False)
    review_reason = reason if routing.queue == REVIEW_QUEUE else None
    return Decision(None, 0.0, [], flags, routing.queue, review_reason, routing.reason,
                    hazard_state=hazard.state, hazard_reason=hazard.reason)
