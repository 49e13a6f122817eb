"""SQLite's request path: a group of webhooks looked up in one read and stored with one INSERT a
table, on the driver's own cursor, inside the transaction the portable path would have used.

The portable path (`pipeline._store_new`) runs a dozen statements a group through SQLAlchemy — the
look for repeats, the contacts, the highest item and contact ids, the audit head, an INSERT a
table — and SQLAlchemy's own work for each (expanding IN lists, processing every parameter,
building a result, the ORM session around them) was most of a group's cost: about two thirds of
`ingest_group`'s CPU for a group of one (docs/benchmarks.md, twelfth session). On the embedded
default one writer thread stores every webhook, so that cost is the webhooks' pace. Here:

1. `look`: ONE SELECT — the items already stored under the group's (channel, external id) and the
   contacts known by its senders' emails and phones (each as one JSON array), the highest item and
   contact ids and the newest audit entry. The transaction began IMMEDIATE (intake/db.py): nobody
   else writes until it ends, so the ids after the highest are ours to give, in turn
   (intake/bulk_insert.py).
2. `write`: one executemany a table on statements SQLAlchemy compiled once from the models
   (`_DriverStatement`): the same SQL, the same bind processing (our column types' and the SQLite
   dialect's) and the same Python-side defaults as Core's INSERT, without its per-execution work.
   With the database queue, the items' jobs are rows of the same transaction.

The guarantees stay the database's and the transaction's: the items' unique (channel, external id)
refuses a repeat, raised as SQLAlchemy's IntegrityError (the caller's one kind), and the whole
transaction rolls back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Dialect, Insert, Table, insert
from sqlalchemy.exc import IntegrityError

from intake.group_rows import GROUP_TABLES, GroupRows, Key, Look, column_default

# Each IN is over a JSON array bound once: one statement text, whatever the group's size, which the
# driver prepares once a connection. Both look-ups stay on their indexes (tests/intake/test_ingest_sqlite.py).
_LOOK = """
SELECT
  (SELECT json_group_array(json_array(channel, external_id, id, reference, status)) FROM items
    WHERE channel IN (SELECT value FROM json_each(:channels))
      AND external_id IN (SELECT value FROM json_each(:external_ids))) AS stored_before,
  (SELECT json_group_array(json_object('id', id, 'email', email, 'phone', phone, 'name', name, 'role', role))
     FROM contacts
    WHERE email IN (SELECT value FROM json_each(:emails))
       OR phone IN (SELECT value FROM json_each(:phones))) AS contacts,
  (SELECT max(id) FROM items) AS highest_item_id,
  (SELECT max(id) FROM contacts) AS highest_contact_id,
  (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1) AS head_id,
  (SELECT chain_hash FROM audit_log ORDER BY id DESC LIMIT 1) AS head_hash
"""

_CHANGE_CONTACT = "UPDATE contacts SET name = ?, phone = ?, role = ? WHERE id = ?"


def look(
    cursor: sqlite3.Cursor,
    keys: Sequence[Key],
    *,
    emails: Sequence[str],
    phones: Sequence[str],
    contacts: int,
) -> Look:
    """Everything the group's write needs to know, in one statement: see the module's docstring.
    `contacts`: how many new contacts there could be (ids are given for as many)."""
    stored, known, highest_item, highest_contact, head_id, head_hash = cursor.execute(
        _LOOK,
        {
            "channels": json.dumps(sorted({channel for channel, _ in keys})),
            "external_ids": json.dumps(sorted({external_id for _, external_id in keys})),
            "emails": json.dumps(list(emails)),
            "phones": json.dumps(list(phones)),
        },
    ).fetchone()
    wanted = set(keys)
    return Look(
        stored_before={
            (channel, external_id): (item_id, reference, status)
            for channel, external_id, item_id, reference, status in json.loads(stored)
            if (channel, external_id) in wanted
        },
        contacts=json.loads(known),
        head=(head_id, head_hash),
        item_ids=_following(highest_item, len(keys)),
        contact_ids=_following(highest_contact, contacts),
        entry_ids=_following(head_id, len(keys)),
    )


def _following(highest: int | None, count: int) -> list[int]:
    first = (highest or 0) + 1
    return list(range(first, first + count))


def write(
    cursor: sqlite3.Cursor,
    rows: GroupRows,
    *,
    dialect: Dialect,
    context: object,
    jobs: tuple[Insert, list[dict[str, Any]]] | None = None,
) -> None:
    """Store `rows` (and `jobs`: a statement and its rows) in the cursor's open transaction.
    `context` carries the connection's execution options, for the columns' defaults (the clock)."""
    writes: list[tuple[_DriverStatement, Sequence[Mapping[str, Any]]]] = list(
        zip(_statements(dialect), rows.by_table(), strict=True)
    )
    if jobs is not None:
        statement, job_rows = jobs
        writes.append((_driver_statement(statement, tuple(job_rows[0]) if job_rows else (), dialect), job_rows))
    sql = _CHANGE_CONTACT
    try:
        for contact_id, values in rows.contact_changes.items():
            cursor.execute(sql, (values["name"], values["phone"], values["role"], contact_id))
        for driver_statement, given in writes:
            if given:
                sql = driver_statement.sql
                cursor.executemany(sql, driver_statement.parameters(given, context))
    except sqlite3.IntegrityError as error:
        raise IntegrityError(sql, None, error) from error


class _DriverStatement:
    """An INSERT SQLAlchemy compiled once for a fixed set of given columns, run on the driver's
    cursor: each row's parameters in the statement's order, through each bind's processing (our
    types', e.g. UTCDateTime refusing a naive time, then the dialect's: JSON text, SQLite's time
    format), with every other column's Python-side default (one a group, as one INSERT … VALUES
    would give) and the statement's own constants (an upsert's SET values)."""

    def __init__(self, statement: Insert, given: Sequence[str], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(given))
        if compiled.positiontup is None:
            raise TypeError(f"{dialect.name} does not bind parameters by position")
        self.sql = compiled.string
        table = cast(Table, statement.table)
        self.defaulted = [
            table.c[name] for name in compiled.positiontup if name not in given and name in table.c
        ]
        self.steps: list[tuple[str, str, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in given:
                self.steps.append(("given", name, None, process))
            elif name in table.c:
                if table.c[name].default is None:
                    raise TypeError(f"{table.name}.{name} is neither given nor defaulted")
                self.steps.append(("default", name, None, process))
            else:  # a constant of the statement itself
                self.steps.append(("constant", name, process(bind.value) if process else bind.value, None))

    def parameters(self, given: Sequence[Mapping[str, Any]], context: object) -> list[tuple[Any, ...]]:
        defaults = {column.name: column_default(column, context) for column in self.defaulted}
        rows = []
        for row in given:
            values = []
            for kind, name, constant, process in self.steps:
                if kind == "constant":
                    values.append(constant)
                    continue
                value = row[name] if kind == "given" else defaults[name]
                values.append(process(value) if process is not None else value)
            rows.append(tuple(values))
        return rows


@lru_cache(maxsize=32)  # a statement, its columns and a dialect (an engine): tests build many engines
def _driver_statement(statement: Insert, given: tuple[str, ...], dialect: Dialect) -> _DriverStatement:
    return _DriverStatement(statement, given, dialect)


@lru_cache(maxsize=8)  # one a dialect (an engine): tests build many
def _statements(dialect: Dialect) -> tuple[_DriverStatement, ...]:
    """GROUP_TABLES' INSERTs, in its order."""
    return tuple(_DriverStatement(insert(table), given, dialect) for table, given in GROUP_TABLES)
