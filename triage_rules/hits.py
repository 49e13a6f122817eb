"""`RuleHit`: one named rule that fired. Rules produce them; the classifier's result carries them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleHit:
    """One named rule that fired: what it set and the text that triggered it."""

    rule: str  # unique rule name from triage_rules/rules/*.yaml
    effect: str  # "flag", "category_hint", "type_hint" or "route"
    value: str  # the flag / category / type / queue it points to
    matched: str  # the words that matched (or the header/sender for sender rules)
