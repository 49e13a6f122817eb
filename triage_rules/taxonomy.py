"""The taxonomy (types, categories, flags, queues, channels), loaded once from taxonomy.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")


@dataclass(frozen=True)
class Taxonomy:
    types: tuple[str, ...]
    type_prefixes: dict[str, str]
    type_queues: dict[str, str]
    categories: tuple[str, ...]
    flags: tuple[str, ...]
    queues: tuple[str, ...]
    channels: tuple[str, ...]
    unclassified_prefix: str
    junk_queue: str


@cache
def load_taxonomy(path: Path = TAXONOMY_FILE) -> Taxonomy:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Taxonomy(
        types=tuple(raw["types"]),
        type_prefixes={name: spec["prefix"] for name, spec in raw["types"].items()},
        type_queues={name: spec["queue"] for name, spec in raw["types"].items()},
        categories=tuple(raw["categories"]),
        flags=tuple(raw["flags"]),
        queues=tuple(raw["queues"]),
        channels=tuple(raw["channels"]),
        unclassified_prefix=raw["unclassified_prefix"],
        junk_queue=raw["junk_queue"],
    )


TAXONOMY = load_taxonomy()
TYPES = TAXONOMY.types
CATEGORIES = TAXONOMY.categories
FLAGS = TAXONOMY.flags
QUEUES = TAXONOMY.queues
CHANNELS = TAXONOMY.channels
REVIEW_QUEUE = "triage_review"
# Junk is an outcome, not a type: spam, marketing, phishing, automated notices (never acknowledged).
JUNK = "junk"
JUNK_QUEUE = TAXONOMY.junk_queue
