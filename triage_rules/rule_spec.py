"""What a rule is, and how one is read and checked from a YAML rule file.

The schema of a rule (see docs/rules.md for the long version):

    - name: urgent_safety.gas_smell          # unique, "<file stem>.<slug>"
      description: a smell of gas or a gas leak
      effect: flag                           # flag | category_hint | type_hint | hazard
      value: urgent_safety                   # a flag / category / type from the taxonomy, or a hazard
      phrases: [smell of gas, gas leak]      # PhraseMatcher on LOWER
      patterns:                              # spaCy Matcher token patterns (LEMMA is case-blind)
        - [{LEMMA: smell}, {LOWER: gas}]
      sender: {domains: [parliament.uk], address: "^cllr\\.", name: "(?i)^cllr\\b"}
      also: {phrases: [...], patterns: [...]}             # one of these must match too
      unless: {phrases: [...], patterns: [...], scope: overlap}   # negative patterns
      unless_flags: [designated_person]      # drop this hit when another hit sets one of these flags
      channels: [email, web_form]            # only on these channels (default: all)
      fields: [subject, body]                # where text patterns look (default: both)
      examples: ["there's a strong smell of gas"]
      counter_examples: ["no smell of gas"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import yaml

from triage_rules.errors import RulesError
from triage_rules.taxonomy import CATEGORIES, CHANNELS, FLAGS, TYPES

EFFECTS = ("flag", "category_hint", "type_hint", "hazard", "hazard_state")
# Hazards with a statutory clock (Awaab's Law); the pipeline reads these from the hits.
HAZARDS = ("damp_and_mould",)
# Cues that a hazard the message mentions is already fixed, past or praised (no clock starts), or
# plainly still there despite such a cue ("it was fixed but it's leaking again").
HAZARD_STATES = ("resolved", "live")
# Flags the engine sets itself rather than from a rule file.
ENGINE_FLAGS = ("non_english",)
VALUES_BY_EFFECT: dict[str, tuple[str, ...]] = {
    "flag": tuple(flag for flag in FLAGS if flag not in ENGINE_FLAGS),
    "category_hint": CATEGORIES,
    "type_hint": TYPES,
    "hazard": HAZARDS,
    "hazard_state": HAZARD_STATES,
}
FIELDS = ("subject", "body")
UNLESS_SCOPES = ("overlap", "text")
# The longest bounded repeat a token may have ({0,8}); see _read_trigger.
MAX_REPEAT = 8
QUANTIFIER = re.compile(r"^\{(\d*),(\d*)\}$")
NAME_SHAPE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_.]+$")

RULE_KEYS = {
    "name", "description", "effect", "value", "phrases", "patterns", "sender", "also", "unless",
    "unless_flags", "channels", "fields", "examples", "counter_examples",
}
TRIGGER_KEYS = {"phrases", "patterns"}
UNLESS_KEYS = TRIGGER_KEYS | {"scope"}
SENDER_KEYS = {"domains", "address", "name"}
EXAMPLE_KEYS = {"text", "subject", "sender", "sender_name", "channel"}

TokenPattern = list[dict[str, Any]]
# libyaml's safe loader when PyYAML was built with it: rule files parse several times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Trigger:
    """Text patterns: PhraseMatcher phrases (matched on LOWER) and Matcher token patterns."""

    phrases: tuple[str, ...] = ()
    patterns: tuple[TokenPattern, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.phrases or self.patterns)


@dataclass(frozen=True)
class SenderMatch:
    """Who sent it: an email domain (or any sub-domain of it), an address regex, a display-name regex."""

    domains: tuple[str, ...] = ()
    address: re.Pattern[str] | None = None
    name: re.Pattern[str] | None = None

    def find(self, sender: str | None, sender_name: str | None) -> str | None:
        """The sender or name that matched, or None."""
        address = _address_of(sender)
        if address and "@" in address:
            domain = address.rsplit("@", 1)[1]
            if any(domain == wanted or domain.endswith("." + wanted) for wanted in self.domains):
                return sender
        if address and self.address is not None and self.address.search(address):
            return sender
        if isinstance(sender_name, str) and self.name is not None and self.name.search(sender_name.strip()):
            return sender_name
        return None


def _address_of(sender: str | None) -> str:
    """The bare, lower-cased address: "Jane Doe <jane.doe@parliament.uk>" -> "jane.doe@parliament.uk"."""
    if not isinstance(sender, str):
        return ""
    if "<" in sender:
        sender = parseaddr(sender)[1] or sender
    return sender.strip().lower()


@dataclass(frozen=True)
class RuleExample:
    """An input a rule must (example) or must not (counter-example) fire on."""

    text: str
    subject: str | None = None
    sender: str | None = None
    sender_name: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    effect: str
    value: str
    source: Path
    description: str = ""
    trigger: Trigger = field(default_factory=Trigger)
    sender: SenderMatch | None = None
    also: Trigger = field(default_factory=Trigger)
    unless: Trigger = field(default_factory=Trigger)
    unless_scope: str = "overlap"
    unless_flags: frozenset[str] = frozenset()
    channels: frozenset[str] | None = None
    fields: tuple[str, ...] = FIELDS
    examples: tuple[RuleExample, ...] = ()
    counter_examples: tuple[RuleExample, ...] = ()

    def applies_to(self, channel: str | None) -> bool:
        return self.channels is None or channel is None or channel in self.channels


def read_rule_file(path: Path) -> list[Rule]:
    """Parse one YAML rule file into rules; any problem raises RulesError naming the file and rule."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise RulesError(f"cannot read YAML: {error}", path=path) from error
    if not isinstance(raw, dict) or set(raw) != {"rules"} or not isinstance(raw["rules"], list):
        raise RulesError("a rule file must be a mapping with one key, 'rules', holding a list", path=path)
    return [_read_rule(entry, path, position) for position, entry in enumerate(raw["rules"], start=1)]


def _read_rule(entry: Any, path: Path, position: int) -> Rule:
    if not isinstance(entry, dict):
        raise RulesError(f"rule #{position} is not a mapping", path=path)
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_SHAPE.match(name):
        raise RulesError(f"rule #{position} needs a name like 'file_stem.slug', got {name!r}", path=path)

    def fail(problem: str) -> RulesError:
        return RulesError(problem, path=path, rule=name)

    unknown = set(entry) - RULE_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
    effect, value = entry.get("effect"), entry.get("value")
    if effect not in EFFECTS:
        raise fail(f"effect must be one of {EFFECTS}, got {effect!r}")
    if value not in VALUES_BY_EFFECT[effect]:
        raise fail(f"value {value!r} is not a known {effect}; expected one of {VALUES_BY_EFFECT[effect]}")

    trigger = _read_trigger({key: entry[key] for key in TRIGGER_KEYS if key in entry}, fail, "rule")
    sender = _read_sender(entry["sender"], fail) if "sender" in entry else None
    if not trigger and sender is None:
        raise fail("a rule needs phrases, patterns or a sender pattern")
    also = _read_trigger(entry.get("also", {}), fail, "also")
    unless_raw = entry.get("unless", {})
    unless = _read_trigger(unless_raw, fail, "unless", allowed=UNLESS_KEYS)
    unless_scope = unless_raw.get("scope", "overlap") if isinstance(unless_raw, dict) else "overlap"
    if unless_scope not in UNLESS_SCOPES:
        raise fail(f"unless.scope must be one of {UNLESS_SCOPES}, got {unless_scope!r}")
    if (also or unless) and not trigger:
        raise fail("'also' and 'unless' refine text patterns; this rule has none")

    unless_flags = _read_names(entry.get("unless_flags", []), FLAGS, "unless_flags", fail)
    channels = _read_names(entry["channels"], CHANNELS, "channels", fail) if "channels" in entry else None
    fields = _read_names(entry.get("fields", list(FIELDS)), FIELDS, "fields", fail)
    examples = _read_examples(entry.get("examples"), "examples", fail)
    counter_examples = _read_examples(entry.get("counter_examples"), "counter_examples", fail)
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise fail("description must be a string")
    return Rule(
        name=name,
        effect=effect,
        value=value,
        source=path,
        description=description.strip(),
        trigger=trigger,
        sender=sender,
        also=also,
        unless=unless,
        unless_scope=unless_scope,
        unless_flags=frozenset(unless_flags),
        channels=frozenset(channels) if channels is not None else None,
        fields=tuple(fields),
        examples=examples,
        counter_examples=counter_examples,
    )


def _read_trigger(raw: Any, fail: Any, where: str, *, allowed: set[str] = TRIGGER_KEYS) -> Trigger:
    if not isinstance(raw, dict):
        raise fail(f"{where} must be a mapping of phrases/patterns")
    unknown = set(raw) - allowed
    if unknown:
        raise fail(f"{where}: unknown keys {sorted(unknown)}")
    phrases = raw.get("phrases", [])
    if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
        raise fail(f"{where}.phrases must be a list of non-empty strings")
    patterns = raw.get("patterns", [])
    if not isinstance(patterns, list) or not all(
        isinstance(p, list) and p and all(isinstance(token, dict) and token for token in p) for p in patterns
    ):
        raise fail(f"{where}.patterns must be a list of token patterns (non-empty lists of mappings)")
    for pattern in patterns:
        for token in pattern:
            bounds = QUANTIFIER.match(str(token.get("OP", "")))
            if bounds and bounds.group(2) and int(bounds.group(2)) > MAX_REPEAT:
                # spaCy unrolls {n,m} into m optional tokens: matching time grows exponentially with m
                raise fail(f"{where}.patterns: OP {token['OP']!r} repeats more than {MAX_REPEAT} times; "
                           "use OP '*' with a NOT_IN sentence-end test for a long gap")
        if any(_holds_bool(token) for token in pattern):
            # YAML reads bare no/yes/on/off as booleans: {LOWER: no} would silently match nothing.
            raise fail(f"{where}.patterns: a bare no/yes/on/off was read as a boolean in {pattern}; quote it")
    return Trigger(phrases=tuple(p.strip() for p in phrases), patterns=tuple(patterns))


def _holds_bool(value: Any) -> bool:
    if isinstance(value, dict):
        # Boolean token attributes (IS_PUNCT: true, LIKE_NUM: false) are meant as booleans.
        return any(_holds_bool(v) for k, v in value.items() if not str(k).startswith(("IS_", "LIKE_")))
    if isinstance(value, list):
        return any(_holds_bool(item) for item in value)
    return isinstance(value, bool)


def _read_sender(raw: Any, fail: Any) -> SenderMatch:
    if not isinstance(raw, dict) or not raw or set(raw) - SENDER_KEYS:
        raise fail(f"sender must be a mapping with some of {sorted(SENDER_KEYS)}")
    domains = raw.get("domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
        raise fail("sender.domains must be a list of domains")
    return SenderMatch(
        domains=tuple(d.lower().lstrip("@.") for d in domains),
        address=_compile(raw.get("address"), "sender.address", fail),
        name=_compile(raw.get("name"), "sender.name", fail),
    )


def _compile(pattern: Any, where: str, fail: Any) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise fail(f"{where} must be a regular expression string")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise fail(f"{where} is not a valid regular expression: {error}") from error


def _read_names(raw: Any, known: tuple[str, ...], where: str, fail: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise fail(f"{where} must be a list of names")
    unknown = [item for item in raw if item not in known]
    if unknown:
        raise fail(f"{where}: unknown {unknown}; expected some of {known}")
    return raw


def _read_examples(raw: Any, where: str, fail: Any) -> tuple[RuleExample, ...]:
    # Every rule carries its own test: at least one example and one counter-example.
    if not isinstance(raw, list) or not raw:
        raise fail(f"{where} must be a non-empty list (every rule is tested from its examples)")
    examples = []
    for item in raw:
        if isinstance(item, str):
            examples.append(RuleExample(text=item))
        elif isinstance(item, dict) and isinstance(item.get("text", ""), str) and not set(item) - EXAMPLE_KEYS:
            if item.get("channel") is not None and item["channel"] not in CHANNELS:
                raise fail(f"{where}: unknown channel {item['channel']!r}")
            examples.append(RuleExample(**{"text": "", **item}))
        else:
            raise fail(f"{where}: each entry is a string or a mapping with keys {sorted(EXAMPLE_KEYS)}")
    return tuple(examples)
