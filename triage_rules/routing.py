"""Routing: from an item's type, flags and confidence to its queue, using routing.yaml.

The order and the overrides are data (routing.yaml); the type queues come from taxonomy.yaml.
Every decision carries the reason it was made, so a person can see why an item went where it did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from triage_rules.errors import RoutingError
from triage_rules.taxonomy import FLAGS, JUNK_QUEUE, QUEUES, REVIEW_QUEUE, TAXONOMY

ROUTING_FILE = Path(__file__).with_name("routing.yaml")


@dataclass(frozen=True)
class RoutingDecision:
    queue: str
    reason: str


@dataclass(frozen=True)
class Override:
    name: str
    flag: str
    queue: str
    bypasses_review: bool


@dataclass(frozen=True)
class RoutingTable:
    overrides: tuple[Override, ...]
    review_queue: str
    type_queues: dict[str, str]


def route(item_type: str | None, flags: Iterable[str], *, confident: bool, junk: bool = False) -> RoutingDecision:
    """The queue for an item. `item_type` None means nothing usable to classify (goes to review).

    `junk` (the classifier found spam, marketing, phishing or an automated notice) sends the item to
    the junk queue, never to a work queue; a flag that bypasses review (safety, safeguarding) wins
    over it, so a safety or safeguarding signal is never filed as junk."""
    return decide_route(load_routing(), item_type, flags, confident=confident, junk=junk)


def decide_route(
    table: RoutingTable, item_type: str | None, flags: Iterable[str], *, confident: bool, junk: bool = False
) -> RoutingDecision:
    if item_type is not None and item_type not in table.type_queues:
        raise RoutingError(f"unknown item type {item_type!r}; expected one of {sorted(table.type_queues)}")
    flag_set = set(flags)
    override = next((o for o in table.overrides if o.flag in flag_set), None)
    if override is not None and (override.bypasses_review or (confident and item_type is not None and not junk)):
        return RoutingDecision(override.queue, f"flag {override.flag} -> {override.queue} ({override.name})")
    if junk:
        return RoutingDecision(JUNK_QUEUE, f"junk (spam, marketing, phishing or an automated notice) -> {JUNK_QUEUE}:"
                                           " not acknowledged, not routed to a work queue")
    pending = f" (flag {override.flag} would send it to {override.queue})" if override is not None else ""
    if item_type is None:
        return RoutingDecision(table.review_queue, f"no usable type: a person must look at it{pending}")
    if not confident:
        return RoutingDecision(table.review_queue, f"type {item_type} is not confident enough to route{pending}")
    queue = table.type_queues[item_type]
    return RoutingDecision(queue, f"type {item_type} -> {queue}")


@cache
def load_routing(path: Path = ROUTING_FILE) -> RoutingTable:
    """Read and check routing.yaml; a bad file raises RoutingError naming the file and the entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RoutingError(f"{path}: cannot read YAML: {error}") from error
    if not isinstance(raw, dict) or set(raw) != {"overrides", "review_queue"}:
        raise RoutingError(f"{path}: expected exactly the keys 'overrides' and 'review_queue'")
    review_queue = raw["review_queue"]
    if review_queue != REVIEW_QUEUE:
        raise RoutingError(f"{path}: review_queue must be {REVIEW_QUEUE!r}, got {review_queue!r}")
    if not isinstance(raw["overrides"], list):
        raise RoutingError(f"{path}: overrides must be a list")
    overrides = tuple(_read_override(entry, path) for entry in raw["overrides"])
    names = [override.name for override in overrides]
    if len(set(names)) != len(names):
        raise RoutingError(f"{path}: override names must be unique, got {names}")
    return RoutingTable(overrides=overrides, review_queue=review_queue, type_queues=dict(TAXONOMY.type_queues))


def _read_override(entry: Any, path: Path) -> Override:
    if not isinstance(entry, dict) or set(entry) != {"name", "flag", "queue", "bypasses_review"}:
        raise RoutingError(f"{path}: each override needs exactly name, flag, queue, bypasses_review: {entry!r}")
    name = entry["name"]
    if entry["flag"] not in FLAGS:
        raise RoutingError(f"{path}: override {name!r}: unknown flag {entry['flag']!r}")
    if entry["queue"] not in QUEUES:
        raise RoutingError(f"{path}: override {name!r}: unknown queue {entry['queue']!r}")
    if not isinstance(entry["bypasses_review"], bool):
        raise RoutingError(f"{path}: override {name!r}: bypasses_review must be true or false")
    return Override(name=name, flag=entry["flag"], queue=entry["queue"], bypasses_review=entry["bypasses_review"])
