"""Pattern compilation: LEMMA made case-blind, word patterns expanded, the rest gated."""

from __future__ import annotations

from triage_rules.lemma_forms import forms_of
from triage_rules.pattern_compiler import (
    Gate,
    compile_pattern,
    expand_to_phrases,
    gate_of,
    matches_within_a_line,
    max_length,
    reach_around_gate,
)


def test_lemma_becomes_every_lower_case_form() -> None:
    assert compile_pattern([{"LEMMA": "smell"}]) == [{"LOWER": {"IN": forms_of(["smell"])}}]
    assert {"smell", "smelt", "smelling", "smells"} <= set(forms_of(["Smell"]))


def test_a_word_pattern_expands_to_its_sequences() -> None:
    pattern = [{"LOWER": {"IN": ["no", "not"]}}, {"LOWER": "a", "OP": "?"}, {"LOWER": "gas"}]
    assert expand_to_phrases(pattern) == [
        ("no", "a", "gas"), ("no", "gas"), ("not", "a", "gas"), ("not", "gas"),
    ]


def test_patterns_with_other_tests_or_too_many_sequences_are_not_expanded() -> None:
    assert expand_to_phrases([{"LOWER": "water"}, {"IS_ALPHA": True, "OP": "{0,3}"}]) is None
    many = [{"LOWER": {"IN": [f"w{i}" for i in range(30)]}}] * 3
    assert expand_to_phrases(many, limit=1000) is None


def test_the_gate_is_the_most_selective_required_word() -> None:
    pattern = [{"LOWER": {"IN": ["a", "b", "c"]}}, {"IS_ALPHA": True, "OP": "*"}, {"LOWER": "gas"}]
    assert gate_of(pattern) == Gate(words=frozenset({"gas"}))


def test_a_regex_only_pattern_is_gated_by_its_regex_and_a_bare_test_always_runs() -> None:
    assert gate_of([{"LOWER": {"REGEX": "^f+u"}}]) == Gate(regexes=("^f+u",))
    assert gate_of([{"IS_PUNCT": True}]).always


def test_max_length_counts_repeats_and_knows_unbounded() -> None:
    assert max_length([{"LOWER": "a"}, {"IS_ALPHA": True, "OP": "{0,3}"}, {"LOWER": "b", "OP": "?"}]) == 5
    assert max_length([{"LOWER": "a"}, {"IS_ALPHA": True, "OP": "*"}]) is None


def test_a_match_reaches_from_its_gate_word_as_far_as_the_tokens_around_it_repeat() -> None:
    smell_gas = [{"LOWER": {"IN": ["smell", "smelt", "smells"]}}, {"IS_ALPHA": True, "OP": "{0,3}"}, {"LOWER": "gas"}]
    assert gate_of(smell_gas).words == frozenset({"gas"})
    assert reach_around_gate(smell_gas) == (4, 0)  # "gas" ends every match: up to 4 tokens before it
    # A repeated gate token: the gate word may be the first or the last of its repeats.
    repeated = [{"IS_ALPHA": True, "OP": "?"}, {"LOWER": {"IN": ["a", "b"]}, "OP": "{1,3}"}, {"LOWER": "x", "OP": "?"}]
    assert reach_around_gate(repeated) == (3, 3)
    assert reach_around_gate([{"LOWER": "damp"}, {"OP": "*"}, {"LOWER": "mould"}]) is None  # unbounded
    assert reach_around_gate([{"TEXT": {"REGEX": "^LIAR$"}}]) is None  # no gate word


def test_a_regex_is_line_local_only_when_no_match_can_hold_or_look_past_a_newline() -> None:
    import re

    local = [r"^(f+u+c*k+|f[*#@]{2,}|fck)", r"^(LIAR|LIARS)$", r"^(?!sh[*]t|s[*]+t)[a-z]+[*]+[a-z]*$",
             r"\w+\d", r"(a)\1", r"(?i)discriminat", r"x\b", r"[\x0b-\x7f]+"]
    not_local = [r"a\sb", r"[^a]", r"(?s)a.b", r"\Aa", r"a\Z", r"a\nb", r"[\n]", r"[\x00-\x7f]", r"(?-m:^a)",
                 r"[\W]", r"a(?=\n)", r"\Da", r"(?:a|b\s)"]
    assert all(matches_within_a_line(pattern, re.MULTILINE) for pattern in local)
    assert not any(matches_within_a_line(pattern, re.MULTILINE) for pattern in not_local)
    assert not matches_within_a_line(r"^a$")  # without MULTILINE, ^ and $ are the text's ends
    # What the claim is for: a line-local regex finds a match in the joined lines iff in one line.
    lines = ["a*b", "LIAR", "fuuuck", "x1", "", "s**t", "sh*t"]
    for pattern in local:
        regex = re.compile(pattern, re.MULTILINE)
        assert bool(regex.search("\n".join(lines))) == any(regex.search(line) for line in lines), pattern
