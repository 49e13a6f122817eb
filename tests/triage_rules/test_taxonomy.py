"""docs/taxonomy.md and triage_rules/taxonomy.yaml name the same labels."""

from __future__ import annotations

import re
from pathlib import Path

from triage_rules.taxonomy import CATEGORIES, CHANNELS, FLAGS, QUEUES, TAXONOMY, TYPES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "taxonomy.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return DOC.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def _first_column(section: str) -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def test_the_doc_lists_exactly_the_types_with_their_prefix_and_queue() -> None:
    section = _section("Types")
    assert _first_column(section) == list(TYPES)
    for name in TYPES:
        assert f"| `{name}` | `{TAXONOMY.type_prefixes[name]}` | `{TAXONOMY.type_queues[name]}` |" in section


def test_the_doc_lists_exactly_the_categories() -> None:
    assert _first_column(_section("Complaint categories")) == list(CATEGORIES)


def test_the_doc_lists_exactly_the_flags() -> None:
    assert _first_column(_section("Flags")) == list(FLAGS)


def test_the_doc_lists_exactly_the_queues_and_channels() -> None:
    assert re.findall(r"`([a-z_]+)`", _section("Queues").split("\n\n")[1]) == list(QUEUES)
    assert re.findall(r"`([a-z_]+)`", _section("Channels")) == list(CHANNELS)
