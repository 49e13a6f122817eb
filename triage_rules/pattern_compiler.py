"""Turn the rules' spaCy token patterns into the cheapest equivalent to match.

spaCy's `Matcher` costs time for every pattern at every token (and `IN`/`REGEX` tests run in
Python), while the `PhraseMatcher` looks every phrase up in a trie at once. So, at load:

* `LEMMA` becomes a `LOWER` test over all forms of the lemma (case-blind, see lemma_forms.py);
* a pattern made only of word tests (LOWER/LEMMA, exact or IN, optionally `?` or `{n,m}`) is
  expanded into the token sequences it can match, for the PhraseMatcher, when there are few enough;
* every other pattern stays a Matcher pattern, with a gate: the words (one required token's
  possible values) or the regular expressions without which it cannot match, so its Matcher only
  runs on a message that contains them.
"""

from __future__ import annotations

import itertools
import re
import re._constants as _sre  # the regex parser's own opcodes (matches_within_a_line)
import re._parser as _sre_parser
from dataclasses import dataclass
from typing import Any

from triage_rules.lemma_forms import forms_of

TokenPattern = list[dict[str, Any]]
# A pattern expanding to more token sequences than this stays a Matcher pattern.
MAX_EXPANSION = 400
WORD_ATTRS = ("LOWER",)
QUANTIFIER = re.compile(r"^\{(\d*),?(\d*)\}$")


@dataclass(frozen=True)
class Gate:
    """What a message must contain for a Matcher pattern to have a chance."""

    words: frozenset[str] | None = None  # one of these lower-cased tokens, or
    regexes: tuple[str, ...] = ()  # a token (lower-cased) matching one of these; neither: always run

    @property
    def always(self) -> bool:
        return self.words is None and not self.regexes


def compile_pattern(pattern: TokenPattern) -> TokenPattern:
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


def expand_to_phrases(pattern: TokenPattern, limit: int = MAX_EXPANSION) -> list[tuple[str, ...]] | None:
    """The token sequences a compiled pattern matches, or None if it is not a pure word pattern."""
    slots: list[list[tuple[str, ...]]] = []  # per pattern token: the token runs it can match
    total = 1
    for token in pattern:
        words = _word_values(token)
        low, high = _repeats(token.get("OP"))
        if words is None or high is None or high > 3:
            return None
        runs: list[tuple[str, ...]] = []
        for count in range(low, high + 1):
            runs.extend(itertools.product(words, repeat=count))
        total *= len(runs)
        if total > limit:
            return None
        slots.append(runs)
    phrases = {tuple(word for run in combination for word in run) for combination in itertools.product(*slots)}
    return sorted(phrase for phrase in phrases if phrase)


def gate_of(pattern: TokenPattern) -> Gate:
    """The most selective required token's words, else required REGEX tests, else always."""
    best: frozenset[str] | None = None
    regexes: list[str] = []
    for token in pattern:
        low, _ = _repeats(token.get("OP"))
        if low == 0:
            continue
        words = _word_values(token) or _case_blind_values(token)
        if words is not None and (best is None or len(words) < len(best)):
            best = frozenset(words)
        for attr in ("LOWER", "TEXT", "ORTH", "NORM"):
            value = token.get(attr)
            if isinstance(value, dict) and isinstance(value.get("REGEX"), str):
                regexes.append(value["REGEX"])
    if best is not None:
        return Gate(words=best)
    return Gate(regexes=tuple(regexes))


def reach_around_gate(pattern: TokenPattern) -> tuple[int, int] | None:
    """How many tokens a match can extend before and after a token of its gate word (the token
    `gate_of` chose, or any of its repeats), or None when that is unbounded or there is no gate word.
    A match holds such a token, so the window those reaches span around every gate word holds
    every match: narrower than the pattern's longest match on both sides."""
    position, best = None, None
    for index, token in enumerate(pattern):
        low, _ = _repeats(token.get("OP"))
        if low == 0:
            continue
        words = _word_values(token) or _case_blind_values(token)
        if words is not None and (best is None or len(words) < len(best)):
            position, best = index, words
    if position is None:
        return None
    highs = [high for _, high in (_repeats(token.get("OP")) for token in pattern) if high is not None]
    if len(highs) < len(pattern):
        return None
    repeats = highs[position] - 1  # the gate word may be any of its token's repeats
    return sum(highs[:position]) + repeats, sum(highs[position + 1:]) + repeats


def required_words(pattern: TokenPattern) -> list[frozenset[str]]:
    """For each token the pattern cannot match without, the lower-cased words it can be (when its
    test is a word test): a message missing every word of one of these sets cannot match it.
    Tokens whose test is not a plain word list (flags, REGEX, NOT_IN) are left out: no claim."""
    needed = []
    for token in pattern:
        low, _ = _repeats(token.get("OP"))
        if low == 0:
            continue
        words = _word_values(token) or _case_blind_values(token)
        if words is not None:
            needed.append(frozenset(words))
    return needed


def max_length(pattern: TokenPattern) -> int | None:
    """The most tokens a match of the pattern can span; None when a token repeats without bound."""
    total = 0
    for token in pattern:
        _, high = _repeats(token.get("OP"))
        if high is None:
            return None
        total += high
    return total


def _lemma_test(value: Any) -> Any:
    if isinstance(value, str):
        return {"IN": forms_of([value])}
    if isinstance(value, dict) and set(value) <= {"IN", "NOT_IN"}:
        return {op: forms_of(lemmas) for op, lemmas in value.items()}
    raise ValueError(f"LEMMA takes a lemma or {{IN: [...]}} / {{NOT_IN: [...]}}, got {value!r}")


def _word_values(token: dict[str, Any]) -> list[str] | None:
    """The lower-cased words a token can be, if it tests LOWER only (exact or IN)."""
    if set(token) - {"LOWER", "OP"} or "LOWER" not in token:
        return None
    value = token["LOWER"]
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(v, str) for v in value["IN"]):
        return sorted({v.lower() for v in value["IN"]})
    return None


def _case_blind_values(token: dict[str, Any]) -> list[str] | None:
    """Lower-cased values of an exact ORTH/TEXT test: a superset of what the token can be, for gating."""
    for attr in ("ORTH", "TEXT"):
        value = token.get(attr)
        if isinstance(value, str):
            return [value.lower()]
        if isinstance(value, dict) and set(value) == {"IN"}:
            return sorted({str(v).lower() for v in value["IN"]})
    return None


def _repeats(op: Any) -> tuple[int, int | None]:
    """(min, max) repetitions of a token for a Matcher OP; max None means unbounded."""
    if op is None:
        return 1, 1
    if op == "!":
        return 0, None  # a negated token: never a gate, never expanded
    if op == "?":
        return 0, 1
    if op == "*":
        return 0, None
    if op == "+":
        return 1, None
    found = QUANTIFIER.match(str(op))
    if found is None:
        return 1, None
    low = int(found.group(1) or 0)
    if "," not in str(op):
        return low, low
    return low, int(found.group(2)) if found.group(2) else None


def matches_within_a_line(pattern: str, flags: int = 0) -> bool:
    """True when no match of the regex can hold a newline or depend on the text beyond the line it
    is on (no \\A or \\Z, no flags switched inside): then searching "\\n".join(lines) finds a match
    exactly when one of the lines holds one, and each line can be asked on its own (and its answer
    remembered). Only for MULTILINE patterns (^ and $ at line edges). False when unsure: the
    caller then searches the joined text as before."""
    try:
        parsed = _sre_parser.parse(pattern, flags)
    except re.error:
        return False
    if parsed.state.flags & re.DOTALL or not parsed.state.flags & re.MULTILINE:
        return False
    return _line_local(parsed)


_NEWLINE = ord("\n")
_SAFE_CATEGORIES = frozenset({
    _sre.CATEGORY_DIGIT, _sre.CATEGORY_WORD, _sre.CATEGORY_NOT_SPACE, _sre.CATEGORY_NOT_LINEBREAK,
    _sre.CATEGORY_UNI_DIGIT, _sre.CATEGORY_UNI_WORD, _sre.CATEGORY_UNI_NOT_SPACE, _sre.CATEGORY_UNI_NOT_LINEBREAK,
})
_SAFE_ANCHORS = frozenset({_sre.AT_BEGINNING, _sre.AT_BEGINNING_LINE, _sre.AT_END, _sre.AT_END_LINE,
                           _sre.AT_BOUNDARY, _sre.AT_NON_BOUNDARY})


def _line_local(items: Any) -> bool:
    for op, value in items:
        if op is _sre.LITERAL:
            if value == _NEWLINE:
                return False
        elif op is _sre.ANY:
            pass  # "." stops at a newline unless DOTALL (refused above)
        elif op is _sre.IN:
            if not _class_line_local(value):
                return False
        elif op is _sre.AT:
            if value not in _SAFE_ANCHORS:
                return False
        elif op is _sre.BRANCH:
            if not all(_line_local(branch) for branch in value[1]):
                return False
        elif op is _sre.SUBPATTERN:
            _, add_flags, del_flags, body = value
            if add_flags or del_flags or not _line_local(body):
                return False
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            if not _line_local(value[2]):
                return False
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            if not _line_local(value[1]):
                return False
        elif op is _sre.ATOMIC_GROUP:
            if not _line_local(value):
                return False
        elif op is _sre.GROUPREF:
            pass  # repeats text a group matched: on the same line
        else:  # NOT_LITERAL, GROUPREF_EXISTS, anything new: not worth proving
            return False
    return True


def _class_line_local(items: Any) -> bool:
    for op, value in items:
        if op is _sre.LITERAL:
            if value == _NEWLINE:
                return False
        elif op is _sre.RANGE:
            if value[0] <= _NEWLINE <= value[1]:
                return False
        elif op is _sre.CATEGORY:
            if value not in _SAFE_CATEGORIES:
                return False
        else:  # NEGATE and the rest
            return False
    return True
