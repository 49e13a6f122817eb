"""A queue, filter or search result as a CSV file a manager can open in Excel.

Cells that a spreadsheet would run as a formula (starting =, +, - or @) are prefixed with a quote:
residents write the text, and a CSV must never become a way to run something on a manager's machine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from intake.formatting import time_left, uk_time
from models import Item

COLUMNS = (
    "Reference",
    "Received",
    "Channel",
    "From",
    "Subject or first words",
    "Type",
    "Categories",
    "Flags",
    "Queue",
    "Assigned to",
    "Next deadline",
    "Time left",
    "Case status",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(item: Item, now: datetime) -> list[str]:
    words = item.subject or (item.prepared_text or item.body or "").strip().split("\n", 1)[0]
    return [
        _cell(value)
        for value in (
            item.reference or f"Item {item.id}",
            uk_time(item.received_at),
            item.channel,
            item.sender_name or item.sender_address or "",
            words[:200],
            item.type or "",
            "; ".join(item.categories or []),
            "; ".join(item.flags or []),
            item.queue or "",
            item.assigned_to or "",
            uk_time(item.next_due_at),
            time_left(item.next_due_at, now),
            item.case_status,
        )
    ]


def cases_as_csv(items: Iterable[Item], *, now: datetime) -> str:
    """UTF-8 with a byte-order mark, so Excel shows names with accents correctly."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in items:
        writer.writerow(_row(item, now))
    return buffer.getvalue()
