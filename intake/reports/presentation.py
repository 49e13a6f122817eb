"""How report cells read on a page: counts with separators, shares as percentages, dates in words.

Shared by the workspace pages and the board report (CSV and JSON keep raw values).
"""

from __future__ import annotations

from datetime import date

from jinja2 import Environment

from intake.reports.tables import Cell, Column

DASH = "–"
NUMERIC_KINDS = ("count", "share", "working_days", "rate")


def format_cell(value: Cell, kind: str = "text") -> str:
    if value is None or value == "":
        return DASH if kind in NUMERIC_KINDS or kind == "date" else ""
    if kind == "count" and isinstance(value, int | float):
        return f"{value:,.0f}"
    if kind == "share" and isinstance(value, int | float):
        return f"{100 * value:.1f}%"
    if kind == "working_days" and isinstance(value, int | float):
        return f"{value:g}"
    if kind == "rate" and isinstance(value, int | float):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return str(value).replace("_", " ") if kind == "text" and _is_label(str(value)) else str(value)


def _is_label(text: str) -> bool:
    """Taxonomy labels (`failure_to_provide`) read better as words; other text is left alone."""
    return text.replace("_", "").isalpha() and text.islower()


def is_numeric(column: Column) -> bool:
    return column.kind in NUMERIC_KINDS


def install(environment: Environment) -> None:
    environment.filters["report_cell"] = format_cell
    environment.tests["numeric_column"] = is_numeric
