"""Labelled examples: reading the JSONL data format, the project-wide TRAIN/TEST split, corpus hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.errors import DataFormatError

SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"
REQUIRED_FIELDS = ("id", "body", "type")
TEST_SPLIT = "test"
TRAIN_SPLIT = "train"


@dataclass(frozen=True)
class LabelledExample:
    """One item with its correct labels. `weight` lets staff corrections outweigh seed labels."""

    id: str
    body: str
    type: str
    channel: str = "email"
    sender: str | None = None
    sender_name: str | None = None
    subject: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    flags: tuple[str, ...] = field(default_factory=tuple)
    queue: str | None = None
    weight: float = 1.0
    # Optional label: "resolved" for a hazard reported as fixed, past or praised (no clock starts).
    hazard_state: str | None = None
    # Optional: "train" keeps the item in TRAIN whatever its id's hash (data added after the TEST
    # split was fixed: TEST stays the same items, so every earlier TEST figure stays comparable).
    split: str | None = None

    def __post_init__(self) -> None:
        # Callers may pass lists (e.g. staff corrections from the database); store tuples.
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "flags", tuple(self.flags))

    @classmethod
    def from_record(cls, record: dict[str, Any], *, weight: float = 1.0) -> LabelledExample:
        """Build from one data-format object; unknown fields are ignored, missing ones named."""
        missing = [name for name in REQUIRED_FIELDS if not isinstance(record.get(name), str)]
        if missing:
            raise ValueError(f"missing or non-text field(s): {', '.join(missing)}")
        return cls(
            id=record["id"],
            body=record["body"],
            type=record["type"],
            channel=_text_or_default(record.get("channel"), "email"),
            sender=_text_or_none(record.get("sender")),
            sender_name=_text_or_none(record.get("sender_name")),
            subject=_text_or_none(record.get("subject")),
            categories=_labels(record.get("categories"), "categories"),
            flags=_labels(record.get("flags"), "flags"),
            queue=_text_or_none(record.get("queue")),
            weight=float(record.get("weight", weight)),
            hazard_state=_text_or_none(record.get("hazard_state")),
            split=_pinned_split(record.get("split")),
        )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _text_or_default(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value != "" else default


def _pinned_split(value: Any) -> str | None:
    """Only TRAIN can be pinned: pinning items into TEST would change the held-out set."""
    if value is None:
        return None
    if value != TRAIN_SPLIT:
        raise ValueError(f"field 'split' must be {TRAIN_SPLIT!r} when present, not {value!r}")
    return TRAIN_SPLIT


def _labels(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise ValueError(f"field {name!r} must be a list of strings")
    return tuple(value)


def read_jsonl(path: Path) -> list[LabelledExample]:
    """All examples in one file; a malformed line raises DataFormatError naming file and line."""
    examples: list[LabelledExample] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as error:
        raise DataFormatError(f"{path}: no such file") from error
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path}: not UTF-8 text ({error.reason})") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("a line must be one JSON object")
            examples.append(LabelledExample.from_record(record))
        except (ValueError, TypeError) as error:
            raise DataFormatError(f"{path}, line {number}: {error}") from error
    return examples


def load_examples(paths: Iterable[Path | str]) -> list[LabelledExample]:
    """Examples from every file, in order; duplicate ids keep the first occurrence."""
    seen: set[str] = set()
    examples: list[LabelledExample] = []
    for path in paths:
        for example in read_jsonl(Path(path)):
            if example.id not in seen:
                seen.add(example.id)
                examples.append(example)
    return examples


def seed_files(seed_dir: Path = SEED_DIR) -> list[Path]:
    return sorted(seed_dir.glob("*.jsonl"))


def split_of(item_id: str, pinned: str | None = None) -> str:
    """The project-wide rule: an id is in TEST iff sha1(id) mod 5 == 0 — unless the record pins
    it to TRAIN (`pinned`, the record's "split" key)."""
    if pinned == TRAIN_SPLIT:
        return TRAIN_SPLIT
    return TEST_SPLIT if int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 5 == 0 else TRAIN_SPLIT


def split_examples(
    examples: Sequence[LabelledExample],
) -> tuple[list[LabelledExample], list[LabelledExample]]:
    """(train, test) by the project-wide split rule (a record pinned to TRAIN stays there)."""
    train = [example for example in examples if split_of(example.id, example.split) == TRAIN_SPLIT]
    test = [example for example in examples if split_of(example.id, example.split) == TEST_SPLIT]
    return train, test


def corpus_hash(examples: Sequence[LabelledExample]) -> str:
    """A sha256 over the examples' content in id order: same data, same hash, whatever the file order."""
    digest = hashlib.sha256()
    for example in sorted(examples, key=lambda item: item.id):
        record = {
            "id": example.id,
            "channel": example.channel,
            "sender": example.sender,
            "sender_name": example.sender_name,
            "subject": example.subject,
            "body": example.body,
            "type": example.type,
            "categories": sorted(example.categories),
            "flags": sorted(example.flags),
            "queue": example.queue,
            "weight": example.weight,
        }
        if example.split is not None:  # only when pinned: the hashes of older corpora do not change
            record["split"] = example.split
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()
