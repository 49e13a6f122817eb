"""Fewer statements per unit of work (issue 14): a session's audit entries link to its own last
written entry without a query, and the reports' fact marks are written once, at commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select

from intake import audit
from intake.runtime import Runtime
from models import AuditEntry, Item, ReportFactMark


def _statements(runtime: Runtime) -> list[str]:
    seen: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(runtime.database.engine, "before_cursor_execute", keep)
    return seen


def test_entries_recorded_in_one_transaction_link_to_each_other_and_the_chain_verifies(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        audit.record(session, actor="tina", action="signed_in")
    seen = _statements(runtime)
    with runtime.database.session() as session:
        for n in range(5):
            audit.record(session, actor="worker", action="tested", n=n)
            session.flush()  # as a worker's batch does between its steps
    head_reads = [s for s in seen if s.startswith("select audit_log.id, audit_log.chain_hash")]
    assert len(head_reads) == 1  # the first entry reads the head; the others link to their own predecessor
    with runtime.database.session() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [entry.previous_id for entry in entries[1:]] == [entry.id for entry in entries[:-1]]
        result = audit.verify(session)
    assert result.intact and result.checked == 6


def test_an_entry_rolled_back_is_never_linked_to(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        audit.record(session, actor="tina", action="signed_in")
    session = runtime.database.sessionmaker()
    try:
        audit.record(session, actor="worker", action="lost")
        session.flush()
        session.rollback()
        audit.record(session, actor="worker", action="kept")
        session.commit()
    finally:
        session.close()
    with runtime.database.session() as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        result = audit.verify(session)
    assert actions == ["signed_in", "kept"]
    assert result.intact, result.problems


def test_fact_marks_are_written_once_per_transaction_and_not_after_a_rollback(runtime: Runtime) -> None:
    from datetime import UTC, datetime

    def new_item(n: int) -> Item:
        return Item(channel="sms", external_id=f"SM-marks-{n}", received_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
                    body="The boiler is broken", status="received", case_status="open")

    seen = _statements(runtime)
    with runtime.database.session() as session:
        for n in range(3):
            session.add(new_item(n))
            session.flush()
    assert sum(s.startswith("insert into report_fact_marks") for s in seen) == 1
    session = runtime.database.sessionmaker()
    try:
        session.add(new_item(10))
        session.flush()
        session.rollback()
        session.add(new_item(11))
        session.commit()
        ids = {row.id for row in session.scalars(select(Item).where(Item.external_id.like("SM-marks-%")))}
    finally:
        session.close()
    with runtime.database.session() as session:
        marked = set(session.scalars(select(ReportFactMark.item_id).where(ReportFactMark.item_id.is_not(None))))
        assert session.scalar(select(func.count()).select_from(Item)) == len(ids) == 4
    assert ids <= marked
    assert len(marked - ids) == 0  # the rolled-back item's mark was never written
