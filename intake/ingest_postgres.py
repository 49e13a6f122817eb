"""PostgreSQL's request path in two statements: a group of webhooks looked up, then stored.

The portable path (`pipeline._store_new`) spends about ten round trips a group (BEGIN, the look
for repeats, contacts, items, raw bytes, the audit head, the audit entries, the report marks,
COMMIT), and each waits for a PostgreSQL backend to get one of two busy cores (docs/benchmarks.md,
sixth session). Here:

1. `look`: ONE read — the items already stored under the group's (channel, external id), the
   contacts known by its senders' emails and phones, the newest audit entry, and ids taken from
   the items', contacts' and audit log's sequences (as many as could be needed; an unused one is
   a gap, as after any rollback).
2. `write`: ONE statement of data-modifying CTEs — new contacts, contacts a message tells more
   about, items, raw bytes, attachments, audit entries, report marks — run in autocommit: a single
   statement is its own transaction, all or nothing, committed when it returns (no BEGIN, no
   COMMIT). Foreign keys are checked at the statement's end, when every row is there.

Both are fixed texts whatever the group's size (the write's rows travel as one JSON array a
table, each a parameter of its own, read back by `json_populate_recordset`), so psycopg prepares
them once a connection and PostgreSQL plans them once. An array a parameter, not one document:
`document -> 'table'` parses the whole document again for each table, and PostgreSQL's JSON lexer
copies every string it passes a character at a time (perf on a backend: that lexing was about a seventh of
the request path's PostgreSQL CPU).

The guarantees stay the database's: the items' unique (channel, external id) refuses a message
another process stored between the two statements (the whole statement fails, nothing is stored,
and the caller falls back as before); the audit head is read before the ids are taken, so every
entry links to a lower id (intake/audit.py). Rows carry exactly what the Core path would write:
each column's default and bind processing are the model's own (`_TableRows`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.sql import sqltypes
from sqlalchemy.types import TypeDecorator

from intake.group_rows import GROUP_TABLES, GroupRows, Key, Look, column_default

_LOOK = """
SELECT
  (SELECT coalesce(json_agg(json_build_array(items.channel, items.external_id, items.id, items.reference,
                                             items.status)), '[]')
     FROM items JOIN unnest(%(channels)s::VARCHAR[], %(external_ids)s::VARCHAR[]) AS wanted(channel, external_id)
       ON items.channel = wanted.channel AND items.external_id = wanted.external_id) AS stored_before,
  (SELECT coalesce(json_agg(json_build_object('id', id, 'email', email, 'phone', phone, 'name', name,
                                              'role', role)), '[]')
     FROM contacts WHERE email = ANY(%(emails)s::VARCHAR[]) OR phone = ANY(%(phones)s::VARCHAR[])) AS contacts,
  head.id AS head_id, head.chain_hash AS head_hash,
  ARRAY(SELECT nextval(pg_get_serial_sequence('items', 'id')) FROM generate_series(1, %(items)s)) AS item_ids,
  ARRAY(SELECT nextval(pg_get_serial_sequence('contacts', 'id')) FROM generate_series(1, %(contacts)s))
    AS contact_ids,
  ARRAY(SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) FROM generate_series(1, %(entries)s))
    AS entry_ids
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT id, chain_hash FROM audit_log ORDER BY id DESC LIMIT 1) AS head ON true
"""


def look(
    connection: Connection,
    keys: Sequence[Key],
    *,
    emails: Sequence[str],
    phones: Sequence[str],
    contacts: int,
) -> Look:
    """Everything the group's write needs to know, in one statement: see the module's docstring."""
    row = connection.exec_driver_sql(
        _LOOK,
        {
            "channels": [channel for channel, _ in keys],
            "external_ids": [external_id for _, external_id in keys],
            "emails": list(emails),
            "phones": list(phones),
            "items": len(keys),
            "contacts": contacts,
            "entries": len(keys),
        },
    ).one()
    return Look(
        stored_before={
            (channel, external_id): (item_id, reference, status)
            for channel, external_id, item_id, reference, status in row.stored_before
        },
        contacts=row.contacts,
        head=(row.head_id, row.head_hash),
        item_ids=sorted(row.item_ids),
        contact_ids=sorted(row.contact_ids),
        entry_ids=sorted(row.entry_ids),
    )


def write(connection: Connection, rows: GroupRows) -> None:
    """Store `rows` in one autocommitted statement (`connection` must be in AUTOCOMMIT)."""
    statement = _write_statement(connection.dialect)
    context = SimpleNamespace(execution_options=connection.get_execution_options())  # the clock, for defaults
    arrays: dict[str, list[dict[str, Any]]] = {
        "changed_contacts": [
            {"id": contact_id, **values} for contact_id, values in rows.contact_changes.items()
        ]
    }
    for table_rows, given in zip(statement.tables, rows.by_table(), strict=True):
        arrays[table_rows.name] = table_rows.rows(given, context)
    # No `default=`: a value JSON cannot hold inside a JSON column fails here, as the Core path's would.
    connection.exec_driver_sql(
        statement.sql, {name: json.dumps(array, ensure_ascii=False) for name, array in arrays.items()}
    )


def _bytea(value: bytes | None) -> str | None:
    return None if value is None else "\\x" + value.hex()  # bytea's hex form


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()  # a datetime's: already in UTC (UTCDateTime)


class _TableRows:
    """`INSERT INTO table (columns) SELECT columns FROM json_populate_recordset(NULL::table, …)`
    for a fixed set of given columns, plus every other column with a default: the SQL once, one
    JSON array a group (one json.dumps in C, where an array a column cost psycopg's dumpers more
    CPU than the rest of the write). Values go through our column types' bind processing, then
    into what json_populate_recordset reads back (bytea's hex form, ISO times); defaults are each
    column's own (scalar or callable, such as models/base.py `utcnow` reading the clock), as
    SQLAlchemy's INSERT does."""

    def __init__(self, table: Table, given: Sequence[str], dialect: Dialect) -> None:
        self.name = table.name  # also the name of the statement's parameter that carries its rows
        self.given = list(given)
        self.defaulted = [
            column for column in table.columns if column.name not in self.given and column.default is not None
        ]
        # Our own types' bind processing (UTCDateTime refuses a naive time), not the driver's
        # (JSON is nested as it is), then the column's form in JSON text.
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for column in [table.c[name] for name in self.given] + self.defaulted:
            steps: list[Callable[[Any], Any]] = []
            if isinstance(column.type, TypeDecorator) and (own := column.type.bind_processor(dialect)):
                steps.append(own)
            stored_as = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
            if isinstance(stored_as, sqltypes.LargeBinary):
                steps.append(_bytea)
            elif isinstance(stored_as, sqltypes.Date | sqltypes.DateTime):
                steps.append(_iso)
            if steps:
                self.processors[column.name] = _chain(steps)
        names = ", ".join([*self.given, *(column.name for column in self.defaulted)])
        self.sql = (
            f"INSERT INTO {table.name} ({names}) SELECT {names} "
            f"FROM json_populate_recordset(NULL::{table.name}, %({table.name})s::json)"
        )

    def rows(self, given: Sequence[Mapping[str, Any]], context: object) -> list[dict[str, Any]]:
        # One default a group: the same "now" for its rows, as one INSERT … VALUES would.
        defaults = {column.name: column_default(column, context) for column in self.defaulted}
        for name, value in defaults.items():
            if name in self.processors:
                defaults[name] = self.processors[name](value)
        given_processors = [(name, self.processors[name]) for name in self.given if name in self.processors]
        processed = []
        for row in given:
            values = {**row, **defaults}
            for name, process in given_processors:
                values[name] = process(values[name])
            processed.append(values)
        return processed


def _chain(steps: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    if len(steps) == 1:
        return steps[0]
    first, second = steps
    return lambda value: second(first(value))


@dataclass(frozen=True)
class _WriteStatement:
    tables: tuple[_TableRows, ...]  # GROUP_TABLES'
    sql: str


@lru_cache(maxsize=8)  # one a dialect (an engine): tests build many
def _write_statement(dialect: Dialect) -> _WriteStatement:
    tables = tuple(_TableRows(table, given, dialect) for table, given in GROUP_TABLES)
    contacts, *others, marks = tables
    sql = (
        f"WITH new_contacts AS ({contacts.sql}), "
        "changed_contacts AS (UPDATE contacts SET name = changed.name, phone = changed.phone, role = changed.role "
        "FROM json_populate_recordset(NULL::contacts, %(changed_contacts)s::json) AS changed "
        "WHERE contacts.id = changed.id), "
        + ", ".join(f"new_{table.name} AS ({table.sql})" for table in others)
        + f" {marks.sql}"
    )
    return _WriteStatement(tables, sql)
