"""Pattern compilation: LEMMA made case-blind, word patterns expanded, the rest gated."""

from __future__ import annotations

from triage_rules.lemma_forms import forms_of
from triage_rules.pattern_compiler import (
    Gate,
    compile_pattern,
    expand_to_phrases,
    gate_of,
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
