"""Report tables as CSV: one header row of column labels, then the rows, exactly as on the page.

Text typed by staff (outcomes) could start with "=", "+", "-" or "@", which a spreadsheet would run
as a formula; such cells get a leading apostrophe, the usual guard.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date

from intake.reports.tables import Cell, ReportTable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHARE_DECIMALS = 4


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{round(value, SHARE_DECIMALS):g}"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def table_rows(table: ReportTable) -> list[list[str]]:
    return [[column.label for column in table.columns]] + [[cell_text(v) for v in row] for row in table.rows]


def table_to_csv(table: ReportTable) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table_rows(table))
    return buffer.getvalue()


def tables_to_csv(tables: Iterable[ReportTable]) -> str:
    """Several tables in one text: each starts with a one-cell title row, a blank line between."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        period = f" — {table.period.label}" if table.period else ""
        writer.writerow([f"{table.title}{period}"])
        writer.writerows(table_rows(table))
    return buffer.getvalue()


def csv_filename(table: ReportTable) -> str:
    suffix = table.period.label.replace("..", "_to_") if table.period else "now"
    return f"{table.view}-{suffix}.csv"
