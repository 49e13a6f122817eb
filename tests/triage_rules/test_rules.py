"""Every rule fires on its examples and not on its counter-examples; bad rule files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage_rules.errors import RulesError
from triage_rules.rule_spec import EFFECTS, HAZARDS, Rule, RuleExample
from triage_rules.rules import DEFAULT_RULES_DIR, RuleEngine, load_rule_engine
from triage_rules.taxonomy import FLAGS

ENGINE = load_rule_engine()
EXAMPLES = [
    pytest.param(rule, example, id=f"{rule.name}[{index}]")
    for rule in ENGINE.rules
    for index, example in enumerate(rule.examples)
]
COUNTER_EXAMPLES = [
    pytest.param(rule, example, id=f"{rule.name}[not {index}]")
    for rule in ENGINE.rules
    for index, example in enumerate(rule.counter_examples)
]


def fired(example: RuleExample) -> dict[str, str]:
    hits = ENGINE.match(example.text, subject=example.subject, sender=example.sender,
                        sender_name=example.sender_name, channel=example.channel)
    return {hit.rule: hit.matched for hit in hits}


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_rule_fires_on_its_example(rule: Rule, example: RuleExample) -> None:
    assert rule.name in fired(example)


@pytest.mark.parametrize(("rule", "example"), COUNTER_EXAMPLES)
def test_rule_stays_quiet_on_its_counter_example(rule: Rule, example: RuleExample) -> None:
    assert rule.name not in fired(example)


def test_every_rule_has_examples_and_counter_examples() -> None:
    for rule in ENGINE.rules:
        assert rule.examples and rule.counter_examples, rule.name


def test_rule_names_are_unique_and_prefixed_by_their_file() -> None:
    names = [rule.name for rule in ENGINE.rules]
    assert len(names) == len(set(names))
    for rule in ENGINE.rules:
        assert rule.name.split(".")[0] == rule.source.stem


def test_every_flag_but_the_language_flag_has_rules() -> None:
    flagged = {rule.value for rule in ENGINE.rules if rule.effect == "flag"}
    assert flagged == set(FLAGS) - {"non_english"}


def test_awaabs_law_hazard_has_a_rule() -> None:
    assert {rule.value for rule in ENGINE.rules if rule.effect == "hazard"} == set(HAZARDS)


def test_effects_are_known() -> None:
    assert {rule.effect for rule in ENGINE.rules} <= set(EFFECTS)


# --- a bad rule file is refused at load, naming the file and the rule ---------------------------

GOOD_RULE = """
  - name: sample.gas
    effect: flag
    value: urgent_safety
    phrases: [smell of gas]
    examples: [a smell of gas]
    counter_examples: [a gas bill]
"""


def write_rules(directory: Path, body: str, name: str = "sample.yaml") -> Path:
    path = directory / name
    path.write_text("rules:\n" + body, encoding="utf-8")
    return path


def load_error(directory: Path) -> RulesError:
    with pytest.raises(RulesError) as caught:
        RuleEngine.load(directory)
    return caught.value


def test_a_valid_rule_directory_loads(tmp_path: Path) -> None:
    write_rules(tmp_path, GOOD_RULE)
    engine = RuleEngine.load(tmp_path)
    assert [rule.name for rule in engine.rules] == ["sample.gas"]
    assert [hit.rule for hit in engine.match("there's a SMELL OF GAS here")] == ["sample.gas"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (GOOD_RULE.replace("value: urgent_safety", "value: urgent"), "not a known flag"),
        (GOOD_RULE.replace("effect: flag", "effect: shout"), "effect must be one of"),
        (GOOD_RULE.replace("    examples: [a smell of gas]\n", ""), "examples must be a non-empty list"),
        (GOOD_RULE.replace("    counter_examples: [a gas bill]\n", ""), "counter_examples must be"),
        (GOOD_RULE.replace("phrases: [smell of gas]", "patterns: [[{LOWER: no}]]"), "read as a boolean"),
        (GOOD_RULE.replace("phrases: [smell of gas]", "patterns: [[{LOWER: gas, OP: '{0,20}'}]]"), "repeats more"),
        (GOOD_RULE.replace("phrases: [smell of gas]", "patterns: [[{LOWERCASE: gas}]]"), "invalid spaCy pattern"),
        (GOOD_RULE.replace("phrases: [smell of gas]", "patterns: [[{LEMMA: {REGEX: ga}}]]"), "LEMMA takes"),
        (GOOD_RULE.replace("phrases: [smell of gas]", "sender: {address: '(unclosed'}"), "not a valid regular"),
        (GOOD_RULE.replace("    phrases: [smell of gas]\n", ""), "needs phrases, patterns or a sender"),
        (GOOD_RULE + "    colour: red\n", "unknown keys"),
        (GOOD_RULE + "    channels: [fax]\n", "channels: unknown"),
        (GOOD_RULE.replace("name: sample.gas", "name: Gas Rule"), "needs a name like"),
    ],
)
def test_a_bad_rule_is_refused_naming_file_and_rule(tmp_path: Path, body: str, problem: str) -> None:
    write_rules(tmp_path, body)
    error = load_error(tmp_path)
    assert problem in str(error)
    assert "sample.yaml" in str(error)


def test_the_error_names_the_rule(tmp_path: Path) -> None:
    write_rules(tmp_path, GOOD_RULE.replace("value: urgent_safety", "value: urgent"))
    assert load_error(tmp_path).rule == "sample.gas"


def test_duplicate_rule_names_across_files_are_refused(tmp_path: Path) -> None:
    write_rules(tmp_path, GOOD_RULE, "a.yaml")
    write_rules(tmp_path, GOOD_RULE, "b.yaml")
    assert "duplicate rule name" in str(load_error(tmp_path))


def test_broken_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("rules: [ {name: x", encoding="utf-8")
    assert "cannot read YAML" in str(load_error(tmp_path))


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    assert "no *.yaml rule files" in str(load_error(tmp_path))


def test_the_shipped_rules_load_from_the_default_directory() -> None:
    assert RuleEngine.load(DEFAULT_RULES_DIR).rules == ENGINE.rules
