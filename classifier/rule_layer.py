"""The bridge to triage_rules: run the rule engine on a prepared message, turn hits into flags/tokens."""

from __future__ import annotations

from collections.abc import Sequence

from spacy.tokens import Doc

from classifier.preparation import PreparedText
from triage_rules.hits import RuleHit
from triage_rules.language import detect_language
from triage_rules.routing import route
from triage_rules.rules import RuleEngine, load_rule_engine

__all__ = ["detect_language", "language_of", "route", "rule_tokens", "run_rules", "RuleEngine"]


def run_rules(
    prepared: PreparedText,
    *,
    channel: str,
    sender: str | None,
    sender_name: str | None,
    engine: RuleEngine | None = None,
    doc: Doc | None = None,
    subject_doc: Doc | None = None,
) -> list[RuleHit]:
    """Every rule that fires on the message (text as the rules read it, plus subject and sender).

    `doc`, when given, is the shared pipeline's Doc of exactly `prepared.rules_text`, and
    `subject_doc` of `prepared.subject` (saves tokenising the same text twice)."""
    engine = engine or load_rule_engine()
    return engine.match(
        prepared.rules_text, subject=prepared.subject, sender=sender, sender_name=sender_name, channel=channel,
        doc=doc, subject_doc=subject_doc,
    )


def rule_tokens(hits: Sequence[RuleHit]) -> list[str]:
    """Meta tokens the model learns from: which rule fired and what it pointed to."""
    tokens: list[str] = []
    for hit in hits:
        tokens.append(f"rule={hit.rule}")
        tokens.append(f"{hit.effect}={hit.value}")
    return list(dict.fromkeys(tokens))


def language_of(text: str, hits: Sequence[RuleHit]) -> str | None:
    """The message's language: from the engine's non-English hit when there is one, else detected."""
    for hit in hits:
        if hit.value == "non_english" and hit.effect == "flag" and len(hit.matched) <= 3:
            return hit.matched
    return detect_language(text)
