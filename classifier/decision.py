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
# translation, never to not_for_triage. Abuse aimed at us is a person writing to us.
PROTECTING_FLAGS = frozenset({"urgent_safety", "safeguarding", "non_english", "abusive"})
# Flags that say a person wrote to us about us — a named member of staff's misconduct, the Ombudsman
# or legal action, a representative, an elected member — hold junk back unless the type model is sure
# it is junk. Spam says these words too: marketing for Complaint Handling Code webinars and Awaab's
# Law courses names the Ombudsman, "no win no fee" claims firms and copyright scams threaten legal
# action, phishing claims to be a bank's fraud team, a councillor's petition is a mass mailing. On
# cross-validated TRAIN (with the blind writers' junk and near-junk items) these flags held back 21
# of 311 junk items at junk probability 0.55-0.96; the highest junk probability of a non-junk item
# carrying one of them was 0.61 (a GP surgery's link worker asking for a tenant, third_party).
# 0.75 keeps a margin above it; a complaint cue or a complaint probability over the floor below
# still holds the item back whatever the flags.
SOFT_PROTECTING_FLAGS = frozenset({"misconduct", "ombudsman", "third_party", "designated_person"})
JUNK_SURE_OVER_SOFT_FLAGS = 0.75
# A person asking whether something is really from us (a scam text, a leaflet, a caller at the door)
# quotes the spam but is not spam: spam never asks its recipient whether it is genuine.
ASKS_IF_GENUINE_RULE = "type_hints.asks_if_genuine"
# The wide safety-net rules (a vulnerable person AND any hazard word; "urgent" AND any hazard word)
# are right about half the time on their own. They raise urgent_safety only when the flag model
# agrees a little (probability >= the flag's confirm threshold, chosen on cross-validated TRAIN
# predictions so that no case is lost out of fold). Specific rules (gas, fire, threats…) never wait.
SAFETY_NET_RULES = frozenset({
    "urgent_safety.frail_person_and_hazard",
    "urgent_safety.says_urgent_with_hazard",
    "urgent_safety.no_heat_or_water_vulnerable",
    "urgent_safety.locked_in_or_out_vulnerable",
})
# A complaint this likely is a complaint signal: the item is classified, not filed as junk. Chosen on
# cross-validated TRAIN predictions: the one complaint the type model ranks as junk out of fold has
# complaint probability 0.24 (and an abusive flag); 0.2 keeps it out by itself. 0.15 before: CV junk
# F1 0.892 (0.2: 0.913), no protected item filed as junk at either.
JUNK_COMPLAINT_FLOOR = 0.2
# Models saved before per-category hint thresholds: the categories a rule hint adds on its own.
# Newer models decide every category's hints with the model (TriageModel.category_hint_thresholds,
# chosen on cross-validated TRAIN predictions: a discrimination hint alone was right 89 times in 134).
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
    flag_notes: tuple[str, ...] = ()  # safety-net rule hits the model did not confirm, in plain words


def ordered_flags(flags: set[str]) -> list[str]:
    return [flag for flag in FLAGS if flag in flags] + sorted(flags - set(FLAGS))


def junk_blocked_by(
    flags: set[str], hits: Sequence[RuleHit], complaint_probability: float, *, junk_probability: float
) -> str | None:
    """Why an item the model thinks is junk must be classified after all (None: nothing stops it)."""
    protecting = sorted(flags & PROTECTING_FLAGS)
    if protecting:
        return f"flag {protecting[0]}"
    soft = sorted(flags & SOFT_PROTECTING_FLAGS)
    if soft and junk_probability < JUNK_SURE_OVER_SOFT_FLAGS:
        return f"flag {soft[0]} (junk probability {junk_probability:.2f})"
    if "complaint" in type_hints_from(hits):
        return "a complaint cue"
    if any(hit.rule == ASKS_IF_GENUINE_RULE for hit in hits):
        return "asks whether it is really from us"
    if complaint_probability >= JUNK_COMPLAINT_FLOOR:
        return f"complaint probability {complaint_probability:.2f}"
    return None


def rule_flags_confirmed(
    hits: Sequence[RuleHit], flag_probabilities: Mapping[str, float], confirm_thresholds: Mapping[str, float]
) -> tuple[set[str], list[str]]:
    """The rule flags, less those raised only by safety-net rules the flag model does not confirm.

    Returns (flags, notes): a note per flag held back, naming the rules and the probability.
    """
    flags = set(flags_from(hits))
    notes = []
    for flag, threshold in confirm_thresholds.items():
        if flag not in flag_probabilities:  # no model for the flag: nothing to confirm with, the rules stand
            continue
        raising = [hit.rule for hit in hits if hit.effect == "flag" and hit.value == flag]
        probability = float(flag_probabilities[flag])
        if raising and all(rule in SAFETY_NET_RULES for rule in raising) and probability < threshold:
            flags.discard(flag)
            notes.append(f"{flag} not raised: only the safety-net rule(s) {', '.join(sorted(set(raising)))} fired "
                         f"and the model's probability {probability:.2f} is below {threshold:.2f}")
    return flags, notes


def decide(
    model: TriageModel,
    *,
    type_probabilities: np.ndarray,
    category_probabilities: np.ndarray,
    model_flags: Mapping[str, float],
    hits: Sequence[RuleHit],
    review_threshold: float,
    flag_probabilities: Mapping[str, float],
) -> Decision:
    """`model_flags`: the flags the flag models raise; `flag_probabilities`: every flag model's
    probability for this item (the safety-net rules are confirmed against them)."""
    rule_flags, notes = rule_flags_confirmed(hits, flag_probabilities, model.confirm_thresholds)
    flag_set = rule_flags | set(model_flags)
    order = [int(index) for index in np.argsort(-type_probabilities, kind="stable")]
    best = order[0]
    junk = False
    if model.types[best] == JUNK:
        complaint = model.types.index("complaint") if "complaint" in model.types else None
        blocked = junk_blocked_by(flag_set, hits, float(type_probabilities[complaint]) if complaint is not None else 0.0,
                                  junk_probability=float(type_probabilities[best]))
        if blocked is None:
            junk = True
        else:
            best = next((index for index in order if model.types[index] != JUNK), best)
    item_type = None if junk else model.types[best]
    confidence = float(type_probabilities[best])
    categories: list[str] = []
    if item_type == "complaint" and model.category_hint_thresholds is not None:
        complaint_probability = float(type_probabilities[model.types.index("complaint")])
        categories = model.choose_categories(model.category_scores(category_probabilities, complaint_probability),
                                             hinted=category_hints_from(hits))
    elif item_type == "complaint":  # a model saved before hint thresholds: RULE_CATEGORIES' hints decide alone
        categories = model.choose_categories(category_probabilities)
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
                    hazard.state, hazard.reason, tuple(notes))


def decide_unusable(hits: Sequence[RuleHit], reason: str) -> Decision:
    """Nothing to classify: a person looks at it — unless a rule saw a safety risk (e.g. in the subject)."""
    flags = ordered_flags(set(flags_from(hits)))
    hazard = hazard_state(hits, flags, None)
    routing = route(None, flags, confident=False)
    review_reason = reason if routing.queue == REVIEW_QUEUE else None
    return Decision(None, 0.0, [], flags, routing.queue, review_reason, routing.reason,
                    hazard_state=hazard.state, hazard_reason=hazard.reason)
