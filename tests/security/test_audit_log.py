"""Finding 7: the audit log cannot be rewritten by a replacing insert (SQLite) or emptied by
TRUNCATE (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from intake import audit, cli
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


def _tamper(runtime: Runtime, statement: str) -> None:
    """What a database owner could do: drop the guard triggers, then edit the log."""
    with runtime.database.engine.begin() as connection:
        if runtime.database.engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        connection.execute(text(statement))


def _verify(runtime: Runtime) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["audit", "verify"])
    return result.exit_code, result.output


def _three_entries(runtime: Runtime) -> list[int]:
    for action in ("signed_in", "item_viewed", "signed_out"):
        with runtime.database.session() as session:
            audit.record(session, actor="tina", action=action, path="/staff/items/1", count=2.5)
    with runtime.database.session() as session:
        return list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def test_an_untouched_log_verifies(runtime: Runtime) -> None:
    ids = _three_entries(runtime)
    code, output = _verify(runtime)
    assert code == 0, output
    assert f"head {ids[-1]} " in output


def test_an_edited_entry_is_named_by_verify(runtime: Runtime) -> None:
    ids = _three_entries(runtime)
    _tamper(runtime, f"UPDATE audit_log SET actor = 'someone-else' WHERE id = {ids[1]}")
    code, output = _verify(runtime)
    assert code == 1
    assert f"entry {ids[1]} was changed" in output


def test_a_deleted_entry_is_named_by_verify(runtime: Runtime) -> None:
    ids = _three_entries(runtime)
    _tamper(runtime, f"DELETE FROM audit_log WHERE id = {ids[1]}")
    code, output = _verify(runtime)
    assert code == 1
    assert f"entry {ids[1]}, which entry {ids[2]} follows, is missing" in output
