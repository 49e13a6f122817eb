"""What the report views share: type columns, deadline kinds, overdue bands and small helpers."""

from __future__ import annotations

from intake.reports.tables import Cell
from triage_rules.taxonomy import TYPES

UNCLASSIFIED = "unclassified"
TYPE_COLUMNS = (*TYPES, UNCLASSIFIED)
KIND_ORDER = ("acknowledge", "respond", "make_safe", "investigate_hazard")
OVERDUE_BANDS = ((1, 5, "1–5 working days"), (6, 10, "6–10 working days"), (11, None, "over 10 working days"))
HAZARD_TARGETS = {
    "make_safe": "24 hours of receipt (Awaab's Law)",
    "investigate_hazard": "10 working days of receipt (Awaab's Law)",
}
NO_OUTCOME = "(no outcome recorded)"
MAX_OUTCOMES_PER_TYPE = 12


def in_words(value: str | None) -> str:
    return (value or "").replace("_", " ")


def share_of(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def as_number(cell: Cell) -> float:
    """A cell as a number for a chart or a total (empty and text cells count as 0)."""
    return float(cell) if isinstance(cell, int | float) else 0.0
