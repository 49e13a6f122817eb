"""Item references such as REF-2026-000123: a neutral prefix, the year received, the item number.

A reference is sent to the resident, so it must never change and never claim something that may
later be corrected: new references carry the neutral prefix `REF`, not the item's type (an enquiry
once called SRQ-… was a defect). References given out before this change (CMP-, SRQ-, ENQ-, CPL-,
SUG-, ITM-) stay as they were. The number is the item's database id, so references never collide
across workers; lookups match on year and number and accept any prefix.
"""

from __future__ import annotations

import re
from datetime import datetime

REFERENCE_PATTERN = re.compile(r"\b([A-Z]{3})-(\d{4})-(\d{6,})\b")


NEUTRAL_PREFIX = "REF"


def make_reference(received_at: datetime, item_id: int) -> str:
    """The reference of a new item: the same whatever its type is or becomes."""
    return f"{NEUTRAL_PREFIX}-{received_at.year:04d}-{item_id:06d}"


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
