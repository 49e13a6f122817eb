"""Finding 7: the audit log cannot be rewritten by a replacing insert (SQLite) or emptied by
TRUNCATE (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from intake import audit
from intake.runtime import Runtime
from models import AuditEntry


def _first_entry(runtime: Runtime) -> int:
    with runtime.database.session() as session:
        audit.record(session, actor="tina", action="signed_in")
    with runtime.database.session() as session:
        return session.scalar(select(func.min(AuditEntry.id)))  # type: ignore[return-value]


def test_an_entry_cannot_be_replaced(runtime: Runtime) -> None:
    entry_id = _first_entry(runtime)
    if runtime.database.engine.dialect.name == "sqlite":
        statement = "INSERT OR REPLACE INTO audit_log (id, at, actor, action, details) VALUES (:id, '2026-01-01', 'x', 'forged', '{}')"
    else:
        statement = ("INSERT INTO audit_log (id, at, actor, action, details) VALUES (:id, now(), 'x', 'forged', '{}') "
                     "ON CONFLICT (id) DO UPDATE SET action = 'forged'")
    with pytest.raises(DatabaseError, match="append-only"), runtime.database.engine.begin() as connection:
        connection.execute(text(statement), {"id": entry_id})
    with runtime.database.session() as session:
        assert session.get(AuditEntry, entry_id).action == "signed_in"  # type: ignore[union-attr]


def test_the_log_cannot_be_emptied(runtime: Runtime) -> None:
    _first_entry(runtime)
    statement = "TRUNCATE audit_log" if runtime.database.engine.dialect.name == "postgresql" else "DELETE FROM audit_log"
    with pytest.raises(DatabaseError, match="append-only"), runtime.database.engine.begin() as connection:
        connection.execute(text(statement))
    with runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) >= 1
