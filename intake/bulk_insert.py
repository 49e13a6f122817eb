"""Multi-row INSERTs that hand back the new rows' ids in the order the rows were given (Core).

PostgreSQL: one `INSERT … RETURNING id` for all of them, sorted by SQLAlchemy into the rows' order.
SQLite guarantees no order for RETURNING, so SQLAlchemy falls back to one statement a row there;
instead, the ids are given: every write transaction on SQLite begins IMMEDIATE (intake/db.py), so
nothing else writes until it ends, and our tables have no AUTOINCREMENT, so the ids after the
table's highest are exactly the ones SQLite itself would give, in turn.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, Select, Table, func, insert, select


def insert_returning_ids(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` (all with the same keys, no `id`) into `table`; their new ids, in order."""
    if not rows:
        return []
    if connection.dialect.name == "sqlite":
        first = (connection.scalar(_highest_id(table)) or 0) + 1
        ids = list(range(first, first + len(rows)))
        connection.execute(plain_insert(table), [{"id": row_id, **row} for row_id, row in zip(ids, rows, strict=True)])
        return ids
    returned = connection.execute(_insert_returning_id(table), rows)
    return list(returned.scalars())


# Statements built once: building one costs more CPU than running it on SQLite (issue 14's profile).
@cache
def plain_insert(table: Table) -> Insert:
    return insert(table)


@cache
def _insert_returning_id(table: Table) -> Insert:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


@cache
def _highest_id(table: Table) -> Select[Any]:
    return select(func.max(table.c.id))
