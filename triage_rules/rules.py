"""The rule engine: every rule in triage_rules/rules/*.yaml, compiled once into spaCy matchers.

All phrases, and every token pattern that expands to few enough word sequences, go into one
`PhraseMatcher` on LOWER (one trie lookup per token whatever the number of rules). The remaining
token patterns go into one `Matcher` per rule and role, each run only when the message holds the
words its patterns need (see pattern_compiler.py). A rule's `also` and `unless` patterns are looked
at only when its trigger matched. `match()` returns one `RuleHit` per rule that fired, in
rule-file order, then the engine's own non-English hit.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from spacy.attrs import LOWER
from spacy.errors import MatchPatternError
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from triage_rules.errors import RulesError
from triage_rules.hits import RuleHit
from triage_rules.language import detect_language, warm_up
from triage_rules.lemma_forms import forget_forms
from triage_rules.nlp import get_nlp
from triage_rules.pattern_compiler import (
    compile_pattern,
    expand_to_phrases,
    gate_of,
    matches_within_a_line,
    max_length,
    reach_around_gate,
    required_words,
)
from triage_rules.rule_spec import Rule, Trigger, read_rule_file

__all__ = [
    "DEFAULT_RULES_DIR", "NON_ENGLISH_RULE", "Rule", "RuleEngine", "category_hints_from", "flags_from",
    "hazard_states_from", "hazards_from", "load_rule_engine", "type_hints_from",
]

DEFAULT_RULES_DIR = Path(__file__).with_name("rules")
NON_ENGLISH_RULE = "language.non_english"
# Longer texts are matched in pieces: spaCy refuses texts over nlp.max_length (1,000,000 chars),
# and no pattern needs more context than this.
CHUNK_CHARS = 100_000
ROLES = ("trigger", "also", "unless")
# Bounds the tokens a regex gate remembers its answer for (one set entry each).
MAX_REMEMBERED_LOWERS = 200_000
HTML_TAG = re.compile(r"<[a-zA-Z/!][^<>]{0,500}>")
Span = tuple[int, int, int]  # (index of the field's Doc, start token, end token)


@dataclass
class _TokenPattern:
    """One Matcher pattern of a token group, with what it needs to have a chance."""

    matcher: Matcher
    # LOWER hashes one of which every match holds (the pattern's gate), or None when the pattern
    # is gated by a regex (or not at all): it then runs where its group's gate says.
    words: frozenset[int] | None
    # Tokens a match can extend before and after a gate word (pattern_compiler.reach_around_gate);
    # None when unbounded: then the whole Doc, once a gate word is there
    reach: tuple[int, int] | None
    need_mask: int  # one bit per required word set (see _FieldView.need_mask); 0: no claim
    # The required word sets themselves: a match lies inside the window the Matcher is given, so a
    # window that lacks a word of one of them cannot hold a match (most windows, ~4 in 5: the
    # required words are in the Doc but not near the gate word)
    needs: tuple[frozenset[int], ...] = ()

    def matches(self, view: _FieldView, windows: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        """(start, end) of the pattern's matches in each window, skipping windows without its words."""
        doc, matcher, needs, size = view.doc, self.matcher, self.needs, len(view.doc)
        lower_list = view.lower_list if needs else []
        for start, end in windows:
            if needs and end - start < size:  # the whole Doc has them all: need_mask said so
                present = set(lower_list[start:end])
                if any(words.isdisjoint(present) for words in needs):
                    continue
            for _, match_start, match_end in matcher(doc[start:end]):
                yield start + match_start, start + match_end

    def windows(self, view: _FieldView) -> list[tuple[int, int]]:
        """The token ranges around this pattern's gate words that hold all its matches (merged)."""
        positions = view.positions
        anchors = sorted(p for word in self.words or () for p in positions.get(word, ()))
        if not anchors or self.reach is None:
            return [(0, len(view.doc))] if anchors else []
        before, after = self.reach
        size = len(view.doc)
        ranges: list[tuple[int, int]] = []
        for anchor in anchors:
            start, end = max(0, anchor - before), min(size, anchor + after + 1)
            if ranges and start <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(end, ranges[-1][1]))
            else:
                ranges.append((start, end))
        return ranges


@dataclass
class _TokenGroup:
    """The Matcher patterns of one rule and role, with the gate that decides where to run them."""

    rule_index: int
    role: str
    matcher: Matcher
    words: set[int] = field(default_factory=set)  # LOWER hashes, one of which every match contains
    regexes: list[str] = field(default_factory=list)
    always: bool = False
    regex: re.Pattern[str] | None = None
    reach: int | None = 0  # the longest match in tokens; None when a pattern is unbounded
    # Per pattern: the word sets (LOWER hashes) of its required word tokens. A pattern one of whose
    # sets has no word in the Doc cannot match there; when that is true of every pattern, the
    # Matcher is not run at all. (Most messages hold a gate word of a group but not the rest of
    # any of its patterns: this skips ~4 in 5 Matcher runs, without changing a single match.)
    needs: list[list[frozenset[int]]] = field(default_factory=list)
    # The same patterns one Matcher each: a pattern runs only when its own required words are all
    # in the Doc, and only around its own gate words (spaCy tests every pattern of a Matcher at
    # every token it is given, and its IN tests run in Python).
    patterns: list[_TokenPattern] = field(default_factory=list)
    # For a regex gate whose matches stay within a line: the engine's memo and the LOWER hashes whose
    # token matches this gate; None: the joined tokens are searched every time.
    token_memo: tuple[_RegexGateMemo, set[int]] | None = None

    def can_match(self, view: _FieldView) -> bool:
        lowers = view.lowers
        return any(all(not words.isdisjoint(lowers) for words in needed) for needed in self.needs)

    def windows(self, view: _FieldView) -> list[tuple[int, int]]:
        """The token ranges worth scanning: none when no pattern can match, else the gate's."""
        if not (self.always or self.regex is not None or not self.words.isdisjoint(view.lowers)):
            return []  # no gate word: what gate_windows would say, found without its work
        return self.gate_windows(view) if self.can_match(view) else []

    def gate_windows(self, view: _FieldView) -> list[tuple[int, int]]:
        """Around each gate word, or all of it, or none (the gate alone: see `windows`)."""
        whole = [(0, len(view.doc))]
        if self.always or (self.regex is not None and self._regex_opens(view)):
            return whole
        return _around(view, self.words, self.reach)

    def _regex_opens(self, view: _FieldView) -> bool:
        """Whether the gate regex finds a match in the Doc's distinct lower-cased tokens, one per line.
        When its matches stay within a line (pattern_compiler.matches_within_a_line) that is whether
        one of the tokens alone holds a match: each token's answer is remembered (most Docs then
        need no regex work at all) instead of joining and searching every Doc's tokens."""
        assert self.regex is not None
        lowers = view.lowers
        if self.token_memo is None or not lowers:
            return self.regex.search(view.unique_lowers) is not None
        memo, matching = self.token_memo
        memo.ask(view)
        return not matching.isdisjoint(lowers)

    def scan(self, view: _FieldView, *, gate_only: bool = False) -> Iterator[tuple[int, int]]:
        """Matches in the Doc. `gate_only` is the plain way, kept as the tests' reference: the
        group's Matcher over the group's gate windows, no can-match check."""
        seen: set[tuple[int, int]] = set()
        if gate_only:
            for start, end in self.gate_windows(view):
                for _, match_start, match_end in self.matcher(view.doc[start:end]):
                    found = (start + match_start, start + match_end)
                    if found not in seen:
                        seen.add(found)
                        yield found
            return
        # Each pattern on its own. A word-gated pattern's matches all hold one of its gate words,
        # so the windows around those words (as far as a match reaches from one) hold all of them;
        # the others run where the group's gate says, as they always did.
        mask = view.need_mask
        group_windows: list[tuple[int, int]] | None = None
        for pattern in self.patterns:
            if pattern.need_mask & mask != pattern.need_mask:
                continue  # a required word is missing: it cannot match
            if pattern.words is not None and not self.always:
                windows = pattern.windows(view)
            else:
                if group_windows is None:
                    group_windows = self.gate_windows(view)
                windows = group_windows
            for found in pattern.matches(view, windows):
                if found not in seen:
                    seen.add(found)
                    yield found


# A channel's trigger patterns in rule order, the positions of those not gated by words, and the
# positions of each gate word's (LOWER hash) patterns
_TriggerPatterns = tuple[list[tuple[_TokenGroup, _TokenPattern]], list[int], dict[int, list[int]]]


class _RegexGateMemo:
    """Which tokens (LOWER hashes) each line-local regex gate matches, asked once per token of all
    of them together: one remembered set of tokens asked for the engine, not one per gate."""

    def __init__(self) -> None:
        self._gates: list[tuple[re.Pattern[str], set[int]]] = []
        self._asked: set[int] = set()

    def add(self, regex: re.Pattern[str]) -> set[int]:
        matching: set[int] = set()
        self._gates.append((regex, matching))
        self._asked.clear()  # a new gate has not been asked about any token
        return matching

    def ask(self, view: _FieldView) -> None:
        """Make every gate's matching set complete for the Doc's tokens."""
        if view.regex_gates_asked is self:
            return  # this Doc's tokens were asked about already (the memo only grows): nothing new
        view.regex_gates_asked = self
        unasked = view.lowers - self._asked
        if not unasked:
            return
        strings = view.doc.vocab.strings
        texts = [(lower, strings[lower]) for lower in unasked]
        for regex, matching in self._gates:
            search = regex.search
            matching.update(lower for lower, text in texts if search(text) is not None)
        if len(self._asked) < MAX_REMEMBERED_LOWERS:
            self._asked.update(unasked)


def _around(view: _FieldView, words: Iterable[int], reach: int | None) -> list[tuple[int, int]]:
    """The token ranges within `reach` of an occurrence of one of `words` (merged), or the whole
    Doc when `reach` is unbounded and a word occurs; none when no word occurs."""
    positions = view.positions
    anchors = sorted(p for word in words for p in positions.get(word, ()))
    if not anchors or reach is None:
        return [(0, len(view.doc))] if anchors else []
    size = len(view.doc)
    ranges: list[tuple[int, int]] = []
    for anchor in anchors:
        start, end = max(0, anchor - reach + 1), min(size, anchor + reach)
        if ranges and start <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(end, ranges[-1][1]))
        else:
            ranges.append((start, end))
    return ranges


@dataclass(frozen=True)
class _NeedTable:
    """The required word sets of all Matcher patterns, numbered: a word's bits are the sets it is in."""

    bits: Mapping[int, int]  # LOWER hash -> bits of the sets it is in
    words: frozenset[int]  # the same words as a set (set & set runs over the smaller one)


class _FieldView:
    """Per-Doc facts the gates ask for, computed at most once."""

    def __init__(self, doc: Doc, gate_words: frozenset[int], needs: _NeedTable) -> None:
        self.doc = doc
        self._gate_words = gate_words
        self._needs = needs
        self._need_mask: int | None = None
        self._positions: dict[int, list[int]] | None = None
        self._lowers: str | None = None
        self._lower_list: list[int] | None = None
        self._lower_set: frozenset[int] | None = None
        # The regex gate memo that has answered for every token of this Doc (it is asked once per Doc,
        # not once per regex-gated group)
        self.regex_gates_asked: _RegexGateMemo | None = None

    @property
    def lower_list(self) -> list[int]:
        """The LOWER hash of each token, read from the Doc once for both views below."""
        if self._lower_list is None:
            self._lower_list = self.doc.to_array(LOWER).tolist()
        return self._lower_list

    @property
    def lowers(self) -> frozenset[int]:
        """The distinct LOWER hashes of the Doc's tokens."""
        if self._lower_set is None:
            self._lower_set = frozenset(self.lower_list)
        return self._lower_set

    @property
    def positions(self) -> dict[int, list[int]]:
        """Where each gate word occurs (LOWER hash -> token indices)."""
        if self._positions is None:
            self._positions = {}
            gate_words = self._gate_words
            if not self.lowers.isdisjoint(gate_words):  # most Docs: no gate word, no walk
                for index, lower in enumerate(self.lower_list):
                    if lower in gate_words:
                        self._positions.setdefault(lower, []).append(index)
        return self._positions

    @property
    def need_mask(self) -> int:
        """One bit for each required word set (the engine's numbering) that has a word in the Doc."""
        if self._need_mask is None:
            mask = 0
            bits = self._needs.bits
            for word in self.lowers & self._needs.words:
                mask |= bits[word]
            self._need_mask = mask
        return self._need_mask

    @property
    def unique_lowers(self) -> str:
        """Each distinct lower-cased token on its own line, for regex gates (^ and $ are token edges)."""
        if self._lowers is None:
            self._lowers = "\n".join(map(self.doc.vocab.strings.__getitem__, self.lowers))
        return self._lowers


class RuleEngine:
    def __init__(self, rules: list[Rule], nlp: Language) -> None:
        self._rules = rules
        self._by_name = {rule.name: rule for rule in rules}
        self._sender_rules = frozenset(index for index, rule in enumerate(rules) if rule.sender is not None)
        self._nlp = nlp
        self._phrase_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._phrase_keys: dict[int, tuple[int, str]] = {}  # match_id -> (rule index, role)
        self._trigger_groups: list[_TokenGroup] = []
        self._refining_groups: dict[int, list[_TokenGroup]] = defaultdict(list)  # also/unless by rule
        # Every distinct required word set of a Matcher pattern gets a bit; a word maps to the bits
        # of the sets it is in, so a Doc's word set gives, in one pass, which sets it meets.
        self._need_set_bits: dict[frozenset[int], int] = {}
        self._need_bits: dict[int, int] = defaultdict(int)  # LOWER hash -> bits of the sets it is in
        self._regex_memo = _RegexGateMemo()
        for index, rule in enumerate(rules):
            for role in ROLES:
                self._add(index, rule, role, getattr(rule, role))
        self._needs = _NeedTable(bits=dict(self._need_bits), words=frozenset(self._need_bits))
        groups = self._trigger_groups + [g for gs in self._refining_groups.values() for g in gs]
        self._gate_words = frozenset(word for group in groups for word in group.words)
        # Which trigger groups a gate word can open, and those that need no gate word: a message
        # then visits only the groups it can open, not all of them.
        self._triggers_by_word: dict[int, list[int]] = defaultdict(list)
        for position, group in enumerate(self._trigger_groups):
            for word in group.words:
                self._triggers_by_word[word].append(position)
        self._trigger_words = frozenset(self._triggers_by_word)
        self._triggers_by_channel: dict[str | None, _TriggerPatterns] = {}
        self._ungated_triggers = frozenset(position for position, group in enumerate(self._trigger_groups)
                                           if group.always or group.regex is not None)

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
        subject_doc: Doc | None = None,
    ) -> list[RuleHit]:
        """Every rule that fires on this message. `doc`, if given, must be a Doc of `text`, and
        `subject_doc` one of `subject`."""
        text = text if isinstance(text, str) else ""
        if doc is None and "<" in text:
            # The classifier sends text, not HTML; if markup slips through, words glued to tags
            # ("<b>smell") would hide from the patterns, and a gas smell must not hide.
            text = HTML_TAG.sub(" ", text)
        fields = [(name, _FieldView(field_doc, self._gate_words, self._needs))
                  for name, field_doc in self._docs(text, subject, doc, subject_doc)]
        found: dict[int, dict[str, list[Span]]] = defaultdict(lambda: defaultdict(list))

        def record(index: int, role: str, field_index: int, start: int, end: int) -> None:
            if fields[field_index][0] in self._rules[index].fields:
                found[index][role].append((field_index, start, end))

        for field_index, (_, view) in enumerate(fields):
            for match_id, start, end in self._phrase_matcher(view.doc):
                record(*self._phrase_keys[match_id], field_index, start, end)
            for rule_index, start, end in self._trigger_matches(view, channel):
                record(rule_index, "trigger", field_index, start, end)
        for index in [index for index, roles in found.items() if roles.get("trigger")]:
            for group in self._refining_groups.get(index, ()):
                for field_index, (_, view) in enumerate(fields):
                    for start, end in group.scan(view):
                        record(index, group.role, field_index, start, end)

        hits: list[RuleHit] = []
        # Only a rule with a match or a sender test can fire; visited in rule-file order.
        for index in sorted(self._sender_rules.union(found)):
            rule = self._rules[index]
            if not rule.applies_to(channel):
                continue
            span = _first_surviving(rule, found[index]) if index in found else None
            matched = fields[span[0]][1].doc[span[1]:span[2]].text if span is not None else None
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
        self._phrase_keys[self._nlp.vocab.strings.add(key)] = (index, role)
        phrase_docs = [self._nlp.make_doc(phrase) for phrase in trigger.phrases]
        matcher_patterns = []
        where = "patterns" if role == "trigger" else f"{role}.patterns"
        for pattern in trigger.patterns:
            try:
                compiled = compile_pattern(pattern)
            except ValueError as error:
                raise RulesError(f"invalid pattern in {where}: {error}", path=rule.source, rule=rule.name) from error
            sequences = expand_to_phrases(compiled)
            if sequences is None:
                matcher_patterns.append(compiled)
            else:
                phrase_docs.extend(Doc(self._nlp.vocab, words=list(words)) for words in sequences)
        if phrase_docs:
            self._phrase_matcher.add(key, phrase_docs)
        if matcher_patterns:
            self._add_token_group(index, rule, role, matcher_patterns, where)

    def _trigger_matches(self, view: _FieldView, channel: str | None) -> Iterator[tuple[int, int, int]]:
        """(rule index, start, end) of the trigger patterns' matches in one field. Every pattern
        whose required words are all there runs, in rule order: what scanning each openable group
        would find (tests/triage_rules/test_engine.py compares the two), a span possibly twice."""
        mask = view.need_mask
        group_windows: dict[int, list[tuple[int, int]]] = {}
        patterns, ungated, by_gate_word = self._trigger_patterns_for(channel)
        # A word-gated pattern has no window without one of its gate words: only the patterns of
        # the gate words in the Doc are visited (most Docs hold a few), not all ~120
        chosen = set(ungated)
        for word in view.positions:
            chosen.update(by_gate_word.get(word, ()))
        for position in sorted(chosen):
            group, pattern = patterns[position]
            if pattern.need_mask & mask != pattern.need_mask:
                continue
            if pattern.words is not None and not group.always:
                windows = pattern.windows(view)
            else:
                known = group_windows.get(id(group))
                windows = group_windows[id(group)] = group.gate_windows(view) if known is None else known
            if not windows:
                continue  # most Docs: a regex-gated group's gate is closed
            for start, end in pattern.matches(view, windows):
                yield group.rule_index, start, end

    def _trigger_patterns_for(self, channel: str | None) -> _TriggerPatterns:
        """The trigger patterns of the rules that apply to `channel`, in rule order, the positions of
        those not gated by words, and the positions of each gate word's patterns (made once per channel)."""
        made = self._triggers_by_channel.get(channel)
        if made is None:
            patterns = [(group, pattern) for group in self._trigger_groups
                        if self._rules[group.rule_index].applies_to(channel) for pattern in group.patterns]
            ungated = [position for position, (group, pattern) in enumerate(patterns)
                       if pattern.words is None or group.always]
            by_gate_word: dict[int, list[int]] = defaultdict(list)
            for position, (group, pattern) in enumerate(patterns):
                if pattern.words is not None and not group.always:
                    for word in pattern.words:
                        by_gate_word[word].append(position)
            made = self._triggers_by_channel[channel] = (patterns, ungated, dict(by_gate_word))
        return made

    def _openable_triggers(self, view: _FieldView) -> list[_TokenGroup]:
        """The trigger groups, in order, that have a gate word in the Doc or need none (the others'
        windows are empty)."""
        positions = set(self._ungated_triggers)
        for word in view.lowers & self._trigger_words:
            positions.update(self._triggers_by_word[word])
        return [self._trigger_groups[position] for position in sorted(positions)]

    def _add_token_group(self, index: int, rule: Rule, role: str, patterns: list[Any], where: str) -> None:
        group = _TokenGroup(index, role, Matcher(self._nlp.vocab, validate=True))
        try:
            group.matcher.add(f"{rule.name}|{role}", patterns)
        except (MatchPatternError, ValueError, TypeError, KeyError) as error:
            raise RulesError(f"invalid spaCy pattern in {where}: {error}", path=rule.source,
                             rule=rule.name) from error
        for pattern in patterns:
            gate = gate_of(pattern)
            length = max_length(pattern)
            group.reach = None if length is None or group.reach is None else max(group.reach, length)
            group.always |= gate.always
            group.words |= {self._nlp.vocab.strings.add(word) for word in gate.words or ()}
            group.regexes.extend(gate.regexes)
            needed = [frozenset(self._nlp.vocab.strings.add(word) for word in words)
                      for words in required_words(pattern)]
            group.needs.append(needed)
            single = Matcher(self._nlp.vocab, validate=True)
            single.add(f"{rule.name}|{role}", [pattern])
            group.patterns.append(_TokenPattern(
                matcher=single,
                words=frozenset(self._nlp.vocab.strings.add(word) for word in gate.words) if gate.words else None,
                reach=reach_around_gate(pattern), need_mask=self._need_mask_of(needed), needs=tuple(needed),
            ))
        if group.regexes:
            group.regex = re.compile("|".join(f"(?:{regex})" for regex in group.regexes), re.MULTILINE)
            if matches_within_a_line(group.regex.pattern, group.regex.flags):
                group.token_memo = (self._regex_memo, self._regex_memo.add(group.regex))
        if role == "trigger":
            self._trigger_groups.append(group)
        else:
            self._refining_groups[index].append(group)

    def _need_mask_of(self, needed: list[frozenset[int]]) -> int:
        mask = 0
        for words in needed:
            bit = self._need_set_bits.get(words)
            if bit is None:
                bit = self._need_set_bits[words] = 1 << len(self._need_set_bits)
                for word in words:
                    self._need_bits[word] |= bit
            mask |= bit
        return mask

    def _docs(self, text: str, subject: str | None, doc: Doc | None,
              subject_doc: Doc | None = None) -> Iterator[tuple[str, Doc]]:
        if isinstance(subject, str) and subject.strip():
            if subject_doc is not None and len(subject) <= CHUNK_CHARS:
                yield "subject", subject_doc
            else:
                yield "subject", self._nlp.make_doc(subject[:CHUNK_CHARS])
        if doc is not None:
            yield "body", doc
            return
        for chunk in _chunks(text, CHUNK_CHARS):
            yield "body", self._nlp.make_doc(chunk)

    def _drop_superseded(self, hits: list[RuleHit]) -> list[RuleHit]:
        """Drop hits whose rule steps aside for a flag another hit set (third_party for designated)."""
        by_name = self._by_name
        flags = {hit.value for hit in hits if hit.effect == "flag"}
        return [hit for hit in hits if hit.rule not in by_name or not (by_name[hit.rule].unless_flags & flags)]


def _first_surviving(rule: Rule, roles: dict[str, list[Span]]) -> Span | None:
    """The first trigger span that has its `also` and is not cancelled by an `unless`; else None."""
    triggers = roles.get("trigger")
    if not triggers or (rule.also and not roles.get("also")):
        return None
    unless = roles.get("unless", [])
    if unless and rule.unless_scope == "text":
        return None
    for span in sorted(triggers):
        field_index, start, end = span
        if not any(u_field == field_index and u_start < end and start < u_end
                   for u_field, u_start, u_end in unless):
            return span
    return None


def _chunks(text: str, size: int) -> Iterator[str]:
    """Split long text at whitespace into pieces of at most `size` characters."""
    if not text:
        yield ""
        return
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            space = text.rfind(" ", start + size // 2, end)
            end = space if space > start else end
        yield text[start:end]
        start = end


@cache
def load_rule_engine() -> RuleEngine:
    """The process-wide engine built from DEFAULT_RULES_DIR, with the language detector warmed up."""
    engine = RuleEngine.load()
    warm_up()
    # The lemma-forms table (~26,000 lemmas) is needed only to compile patterns: not kept all
    # process long (another engine built later reads it again).
    forget_forms()
    return engine


def flags_from(hits: Iterable[RuleHit]) -> list[str]:
    return _values(hits, "flag")


def category_hints_from(hits: Iterable[RuleHit]) -> list[str]:
    return _values(hits, "category_hint")


def type_hints_from(hits: Iterable[RuleHit]) -> list[str]:
    return _values(hits, "type_hint")


def hazards_from(hits: Iterable[RuleHit]) -> list[str]:
    return _values(hits, "hazard")


def hazard_states_from(hits: Iterable[RuleHit]) -> list[str]:
    """"resolved" / "live" cues about a hazard the message mentions (see rules/hazard_state.yaml)."""
    return _values(hits, "hazard_state")


def _values(hits: Iterable[RuleHit], effect: str) -> list[str]:
    """Distinct values of one effect, in the order they first fired."""
    return list(dict.fromkeys(hit.value for hit in hits if hit.effect == effect))
