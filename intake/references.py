"""Item references such as CMP-2026-000123: a prefix per type, the year received, the item number.

The number is the item's database id, so references never collide across workers; the prefix is
fixed when the item is first classified and never changes (it has been sent to the resident), so
lookups match on year and number and accept any prefix.
"""

from __future__ import annotations

import re
from datetime import datetime

from triage_rules.taxonomy import TAXONOMY

REFERENCE_PATTERN = re.compile(r"\b([A-Z]{3})-(\d{4})-(\d{6,})\b")


def make_reference(item_type: str | None, received_at: datetime, item_id: int) -> str:
    prefix = TAXONOMY.type_prefixes.get(item_type or "", TAXONOMY.unclassified_prefix)
    return f"{prefix}-{received_at.year:04d}-{item_id:06d}"


def parse_reference(reference: str) -> tuple[int, int] | None:
    """(year, item id) of a reference, or None when it is not one."""
    match = REFERENCE_PATTERN.fullmatch(reference.strip().upper())
    if match is None:
        return None
    return int(match.group(2)), int(match.group(3))


def find_references(text: str | None) -> list[tuple[int, int]]:
    """Every reference quoted in a subject line or text, as (year, item id)."""
    if not text:
        return []
    return [(int(m.group(2)), int(m.group(3))) for m in REFERENCE_PATTERN.finditer(text.upper())]
