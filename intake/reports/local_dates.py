"""SQL functions the reports need on both backends: `london_date` and `json_list_has`.

`london_date(column)`: the Europe/London calendar date of a stored UTC timestamp.

Reports group by the day a person in the office would write down, not the UTC day. PostgreSQL
converts with its time-zone database. SQLite has none, so there the UK rule since 1996 is spelled
out: British Summer Time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
Sunday of October (the last Sunday of a month ending on the 31st is the Sunday on or after the
25th). UTCDateTime stores SQLite values as 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC, which compares
correctly with the 'YYYY-MM-DD HH:MM:SS' text SQLite's datetime() returns.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class london_date(FunctionElement[date]):  # noqa: N801 - reads like the SQL function it is
    """The London date of a UTC timestamp column (a `date` in results on every backend)."""

    type = Date()
    inherit_cache = True
    name = "london_date"

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any]) -> None:
        super().__init__(column)


@compiles(london_date, "postgresql")
def _london_date_postgresql(element: london_date, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"CAST(timezone('Europe/London', {column}) AS DATE)"


@compiles(london_date, "sqlite")
def _london_date_sqlite(element: london_date, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    year = f"strftime('%Y', {column})"
    summer_starts = f"datetime({year} || '-03-31', '-6 days', 'weekday 0', '+1 hours')"
    summer_ends = f"datetime({year} || '-10-31', '-6 days', 'weekday 0', '+1 hours')"
    return (
        f"(CASE WHEN {column} >= {summer_starts} AND {column} < {summer_ends} "
        f"THEN date({column}, '+1 hours') ELSE date({column}) END)"
    )


class json_list_has(FunctionElement[bool]):  # noqa: N801 - reads like the SQL function it is
    """A JSON list (a column or a JSON path into one) contains the string `label`.

    PostgreSQL: the jsonb `?` operator, which reads the binary value. SQLite: the list's text holds
    the quoted label — exact, because labels are plain identifiers that never contain a quote.
    """

    type = Boolean()
    inherit_cache = True
    name = "json_list_has"

    def __init__(self, value: ColumnElement[Any] | QueryableAttribute[Any], label: str) -> None:
        super().__init__(value, literal(label), literal(f'%"{label}"%'))


@compiles(json_list_has, "postgresql")
def _json_list_has_postgresql(element: json_list_has, compiler: SQLCompiler, **kw: Any) -> str:
    value, label, _ = list(element.clauses)
    return f"COALESCE(({compiler.process(value, **kw)}) ? {compiler.process(label, **kw)}, false)"


@compiles(json_list_has, "sqlite")
def _json_list_has_sqlite(element: json_list_has, compiler: SQLCompiler, **kw: Any) -> str:
    value, _, pattern = list(element.clauses)
    return f"(COALESCE(CAST({compiler.process(value, **kw)} AS TEXT), '') LIKE {compiler.process(pattern, **kw)})"
