"""Finding 7: the audit log cannot be rewritten by a replacing insert (SQLite) or emptied by
TRUNCATE (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from channels.message import InboundMessage
from intake import audit, cli
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import AuditEntry, AuditText


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


def test_words_recorded_in_one_transaction_go_to_notes_each_entry_naming_its_own(runtime: Runtime) -> None:
    """Each reason is a note of its own and its entry names it. On PostgreSQL the notes are numbered
    when the transaction flushes, not with a flush each: a worker's batch records a reason with
    every suppressed acknowledgement, and a flush each broke its writes into pieces (issue 14)."""
    item = ingest(runtime, InboundMessage(channel="web_form", external_id="form-1", body="The boiler is broken.",
                                          received_at=datetime(2026, 12, 1, 9, tzinfo=UTC)), actor="test")
    flushes: list[int] = []
    with runtime.database.session() as session:
        event.listen(session, "after_flush", lambda *_: flushes.append(1))
        for number in range(3):
            audit.record(session, actor="tina", action="deadline_extended", item_id=item.item_id,
                         reason=f"reason number {number}", working_days=10)
        flushed_while_recording = len(flushes)
    postgres = runtime.database.engine.dialect.name == "postgresql"
    assert flushed_while_recording == (0 if postgres else 3)
    with runtime.database.session() as session:
        entries = list(session.scalars(
            select(AuditEntry).where(AuditEntry.action == "deadline_extended").order_by(AuditEntry.id)))
        notes = {note.id: note for note in session.scalars(select(AuditText))}
    assert [notes[entry.details["reason"]["note_id"]].text for entry in entries] == [
        "reason number 0", "reason number 1", "reason number 2"]
    assert all(notes[entry.details["reason"]["note_id"]].item_id == item.item_id for entry in entries)
    code, output = _verify(runtime)
    assert code == 0, output
