"""The rule engine: every rule in triage_rules/rules/*.yaml, compiled once into spaCy matchers.

One `Matcher` and one `PhraseMatcher` (on LOWER) hold the patterns of all rules, keyed by the rule's
name and role (trigger, also, unless), so a message is scanned once per field whatever the number
of rules. `match()` returns one `RuleHit` per rule that fired, in rule-file order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from spacy.errors import MatchPatternError
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from classifier.result import RuleHit
from triage_rules.errors import RulesError
from triage_rules.language import detect_language
from triage_rules.lemma_forms import forms_of
from triage_rules.nlp import get_nlp
from triage_rules.rule_spec import Rule, Trigger, read_rule_file

__all__ = [
    "DEFAULT_RULES_DIR", "NON_ENGLISH_RULE", "Rule", "RuleEngine", "category_hints_from", "flags_from",
    "hazards_from", "load_rule_engine", "type_hints_from",
]

DEFAULT_RULES_DIR = Path(__file__).with_name("rules")
NON_ENGLISH_RULE = "language.non_english"
# Longer texts are matched in pieces: spaCy refuses texts over nlp.max_length (1,000,000 chars),
# and no message needs more than this much context for one pattern.
CHUNK_CHARS = 100_000
ROLES = ("trigger", "also", "unless")
Span = tuple[int, int, int]  # (index of the field's Doc, start token, end token)


class RuleEngine:
    def __init__(self, rules: list[Rule], nlp: Language) -> None:
        self._rules = rules
        self._nlp = nlp
        self._matcher = Matcher(nlp.vocab, validate=True)
        self._phrase_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        # match_id (hash of "name|role") -> (index of rule, role)
        self._keys: dict[int, tuple[int, str]] = {}
        for index, rule in enumerate(rules):
            for role in ROLES:
                self._add(index, rule, role, getattr(rule, role))

    @classmethod
    def load(cls, directory: Path = DEFAULT_RULES_DIR) -> RuleEngine:
        """Read and validate every *.yaml file in `directory` (sorted by name) and build the matchers."""
        files = sorted(Path(directory).glob("*.yaml"))
        if not files:
            raise RulesError("no *.yaml rule files found", path=directory)
        rules: list[Rule] = []
        seen: dict[str, Path] = {}
        for path in files:
            for rule in read_rule_file(path):
                if rule.name in seen:
                    raise RulesError(f"duplicate rule name (also in {seen[rule.name].name})", path=path,
                                     rule=rule.name)
                seen[rule.name] = path
                rules.append(rule)
        return cls(rules, get_nlp())

    @property
    def rules(self) -> list[Rule]:
        return list(self._rules)

    def match(
        self,
        text: str,
        *,
        subject: str | None = None,
        sender: str | None = None,
        sender_name: str | None = None,
        channel: str | None = None,
        doc: Doc | None = None,
    ) -> list[RuleHit]:
        """Every rule that fires on this message. `doc`, if given, must be a Doc of `text`."""
        text = text or ""
        docs = list(self._docs(text, subject, doc))
        found: dict[int, dict[str, list[Span]]] = defaultdict(lambda: defaultdict(list))
        for doc_index, (field_name, field_doc) in enumerate(docs):
            for match_id, start, end in self._scan(field_doc):
                index, role = self._keys[match_id]
                if field_name in self._rules[index].fields:
                    found[index][role].append((doc_index, start, end))

        hits: list[RuleHit] = []
        for index, rule in enumerate(self._rules):
            if not rule.applies_to(channel):
                continue
            span = _first_surviving(rule, found[index]) if index in found else None
            matched = docs[span[0]][1][span[1]:span[2]].text if span is not None else None
            if matched is None and rule.sender is not None:
                matched = rule.sender.find(sender, sender_name)
            if matched is not None:
                hits.append(RuleHit(rule=rule.name, effect=rule.effect, value=rule.value, matched=matched))

        language = detect_language(text)
        if language is not None and language != "en":
            hits.append(RuleHit(rule=NON_ENGLISH_RULE, effect="flag", value="non_english", matched=language))
        return self._drop_superseded(hits)

    def _add(self, index: int, rule: Rule, role: str, trigger: Trigger) -> None:
        if not trigger:
            return
        key = f"{rule.name}|{role}"
        self._keys[self._nlp.vocab.strings.add(key)] = (index, role)
        if trigger.phrases:
            self._phrase_matcher.add(key, [self._nlp.make_doc(phrase) for phrase in trigger.phrases])
        if trigger.patterns:
            try:
                self._matcher.add(key, [_compile_pattern(pattern) for pattern in trigger.patterns])
            except (MatchPatternError, ValueError, TypeError, KeyError) as error:
                where = "patterns" if role == "trigger" else f"{role}.patterns"
                raise RulesError(f"invalid spaCy pattern in {where}: {error}", path=rule.source,
                                 rule=rule.name) from error

    def _docs(self, text: str, subject: str | None, doc: Doc | None) -> Iterator[tuple[str, Doc]]:
        if subject and subject.strip():
            yield "subject", self._nlp.make_doc(subject[:CHUNK_CHARS])
        if doc is not None:
            yield "body", doc
            return
        for chunk in _chunks(text, CHUNK_CHARS):
            yield "body", self._nlp.make_doc(chunk)

    def _scan(self, doc: Doc) -> Iterable[tuple[int, int, int]]:
        yield from self._matcher(doc)
        yield from self._phrase_matcher(doc)

    def _drop_superseded(self, hits: list[RuleHit]) -> list[RuleHit]:
        by_name = {rule.name: rule for rule in self._rules}
        flags = {hit.value for hit in hits if hit.effect == "flag"}
        return [
            hit for hit in hits
            if hit.rule not in by_name or not (by_name[hit.rule].unless_flags & flags)
        ]


def _first_surviving(rule: Rule, roles: dict[str, list[Span]]) -> Span | None:
    """The first trigger span that has its `also` and is not cancelled by an `unless`; else None."""
    triggers = roles.get("trigger")
    if not triggers or (rule.also and not roles.get("also")):
        return None
    unless = roles.get("unless", [])
    if unless and rule.unless_scope == "text":
        return None
    for span in sorted(triggers):
        doc_index, start, end = span
        if not any(u_doc == doc_index and u_start < end and start < u_end for u_doc, u_start, u_end in unless):
            return span
    return None


def _compile_pattern(pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """YAML `LEMMA` means any case of any form of the lemma: rewrite it to LOWER over those forms."""
    compiled = []
    for token in pattern:
        token = dict(token)
        if "LEMMA" in token:
            if "LOWER" in token:
                raise ValueError("a token cannot test both LEMMA and LOWER")
            token["LOWER"] = _lemma_test(token.pop("LEMMA"))
        compiled.append(token)
    return compiled


def _lemma_test(value: Any) -> Any:
    if isinstance(value, str):
        return {"IN": forms_of([value])}
    if isinstance(value, dict) and set(value) <= {"IN", "NOT_IN"}:
        return {op: forms_of(lemmas) for op, lemmas in value.items()}
    raise ValueError(f"LEMMA takes a lemma or {{IN: [...]}} / {{NOT_IN: [...]}}, got {value!r}")


def _chunks(text: str, size: int) -> Iterator[str]:
    """Split long text at whitespace into pieces of at most `size` characters."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            space = text.rfind(" ", start + size // 2, end)
            end = space if space > start else end
        yield text[start:end]
        start = end
    if not text:
        yield ""


@cache
def load_rule_engine() -> RuleEngine:
    """The process-wide engine built from DEFAULT_RULES_DIR."""
    return RuleEngine.load()


def flags_from(hits: Iterable[RuleHit]) -> list[str]:
    return _values(hits, "flag")


def category_hints_from(hits: Iterable[RuleHit]) -> list[str]:
    return _values(hits, "category_hint")


def type_hints_from(hits: Iterable[RuleHit]) -> list[str]:
    return _values(hits, "type_hint")


def hazards_from(hits: Iterable[RuleHit]) -> list[str]:
    return _values(hits, "hazard")


def _values(hits: Iterable[RuleHit], effect: str) -> list[str]:
    """Distinct values of one effect, in the order they first fired."""
    return list(dict.fromkeys(hit.value for hit in hits if hit.effect == effect))
