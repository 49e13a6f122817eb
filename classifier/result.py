"""What `classify()` returns: the labels, the routing and why — stored on the item as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from triage_rules.hits import RuleHit

__all__ = ["Classification", "Explanation", "RuleHit", "TermWeight"]


@dataclass(frozen=True)
class TermWeight:
    """A word or phrase that pushed the model towards (positive) or away from its answer.

    `term` is the model's feature (lemmas); `text` is the resident's own words it came from, and
    `spans` where those words are in the original message (character offsets, end exclusive) —
    empty when the words are not in the original as written (an SMS shorthand expanded)."""

    term: str
    weight: float
    text: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Explanation:
    rules: list[RuleHit] = field(default_factory=list)
    type_terms: list[TermWeight] = field(default_factory=list)
    category_terms: dict[str, list[TermWeight]] = field(default_factory=dict)
    review_reason: str | None = None
    routing_reason: str | None = None  # why the item went to its queue (from triage_rules.routing)
    preparation: list[str] = field(default_factory=list)  # what was done to the text (quotes cut, …)
    # Flags raised by a flag model (not by a rule), with the model's probability.
    model_flags: dict[str, float] = field(default_factory=dict)
    # Why the hazard state is what it is ("resolved — the message says it has been dealt with").
    hazard_reason: str | None = None
    flag_notes: list[str] = field(default_factory=list)  # a rule hit that did not raise its flag, and why


@dataclass(frozen=True)
class Classification:
    type: str | None  # None only when the text is unusable (empty, garbage): then queue is triage_review
    confidence: float
    type_probabilities: dict[str, float]
    categories: list[str]  # chosen categories (complaints only)
    category_probabilities: dict[str, float]
    flags: list[str]
    queue: str
    model_version: str
    language: str | None
    prepared_text: str
    explanation: Explanation
    # Spam, marketing, phishing or an automated notice: type None, queue not_for_triage, never acknowledged.
    junk: bool = False
    # A hazard the message mentions (damp and mould, an urgent safety risk): live, resolved (fixed,
    # past or praised: no Awaab's Law clock, not an emergency) or none.
    hazard_state: str = "none"

    @property
    def needs_review(self) -> bool:
        return self.queue == "triage_review"

    def to_dict(self) -> dict[str, Any]:
        """The same plain data as `dataclasses.asdict(self)` (same keys, order and container types,
        fresh lists and dicts), written out by hand: `asdict` deep-copies generically and cost about a
        tenth of a worker's CPU. Keep it in step with the fields (tests/classifier/test_result_dict.py)."""
        return {
            "type": self.type,
            "confidence": self.confidence,
            "type_probabilities": self.type_probabilities.copy(),
            "categories": self.categories[:],
            "category_probabilities": self.category_probabilities.copy(),
            "flags": self.flags[:],
            "queue": self.queue,
            "model_version": self.model_version,
            "language": self.language,
            "prepared_text": self.prepared_text,
            "explanation": _explanation_dict(self.explanation),
            "junk": self.junk,
            "hazard_state": self.hazard_state,
        }


def _term_dict(term: TermWeight) -> dict[str, Any]:
    return {"term": term.term, "weight": term.weight, "text": term.text, "spans": [span[:] for span in term.spans]}


def _explanation_dict(explanation: Explanation) -> dict[str, Any]:
    return {
        "rules": [
            {"rule": hit.rule, "effect": hit.effect, "value": hit.value, "matched": hit.matched}
            for hit in explanation.rules
        ],
        "type_terms": [_term_dict(term) for term in explanation.type_terms],
        "category_terms": {
            category: [_term_dict(term) for term in terms] for category, terms in explanation.category_terms.items()
        },
        "review_reason": explanation.review_reason,
        "routing_reason": explanation.routing_reason,
        "preparation": explanation.preparation[:],
        "model_flags": explanation.model_flags.copy(),
        "hazard_reason": explanation.hazard_reason,
        "flag_notes": explanation.flag_notes[:],
    }
