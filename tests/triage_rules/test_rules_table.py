"""docs/rules.md lists exactly the rules in triage_rules/rules/*.yaml."""

from __future__ import annotations

from triage_rules.rules import load_rule_engine
from triage_rules.rules_table import DOC_FILE, rules_table, table_in_doc


def test_the_rules_table_in_the_docs_matches_the_yaml() -> None:
    expected = rules_table(load_rule_engine().rules)
    assert table_in_doc(DOC_FILE.read_text(encoding="utf-8")) == expected, (
        "docs/rules.md is out of date: run .venv/bin/python -m triage_rules.rules_table --write"
    )


def test_every_rule_is_named_in_the_table() -> None:
    table = table_in_doc(DOC_FILE.read_text(encoding="utf-8"))
    for rule in load_rule_engine().rules:
        assert f"`{rule.name}`" in table
