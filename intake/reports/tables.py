"""The one shape every report view returns: a titled table of typed columns and rows.

Pages, CSV files, the board report and the `intake report` command all render this same object, so
a figure on the screen is the figure in the download.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from intake.reports.periods import Period

# What a column holds; decides how it is formatted on a page (CSV and JSON keep the raw value).
COLUMN_KINDS = ("text", "count", "share", "working_days", "rate", "date")

Cell = str | int | float | date | None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}; expected one of {', '.join(COLUMN_KINDS)}")


@dataclass(frozen=True)
class Chart:
    """What to draw beside the table: one value per label for each series.

    `style` is "bar" (series side by side), "stacked" (series stacked per label) or "line".
    """

    style: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    unit: str = ""  # "%" draws a 0–100 axis
    title: str = ""

    def __post_init__(self) -> None:
        if self.style not in ("bar", "stacked", "line"):
            raise ValueError(f"unknown chart style {self.style!r}")
        for name, values in self.series:
            if len(values) != len(self.labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(self.labels)} labels")


@dataclass(frozen=True)
class ReportTable:
    view: str
    title: str
    period: Period | None  # None for "now" views such as overdue
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    chart: Chart | None = None
    totals: dict[str, Cell] = field(default_factory=dict)

    def __post_init__(self) -> None:
        width = len(self.columns)
        for row in self.rows:
            if len(row) != width:
                raise ValueError(f"{self.view}: a row has {len(row)} cells for {width} columns")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def records(self) -> list[dict[str, Cell]]:
        return [dict(zip(self.keys, row, strict=True)) for row in self.rows]

    def column(self, key: str) -> list[Cell]:
        index = self.keys.index(key)
        return [row[index] for row in self.rows]

    def find(self, **match: Any) -> dict[str, Cell]:
        """The one row whose cells equal `match` (tests and the board report look rows up this way)."""
        found = [record for record in self.records() if all(record.get(k) == v for k, v in match.items())]
        if len(found) != 1:
            raise LookupError(f"{self.view}: {len(found)} rows match {match}")
        return found[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "title": self.title,
            "period": self.period.label if self.period else None,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in record.items()}
                for record in self.records()
            ],
            "notes": list(self.notes),
        }
