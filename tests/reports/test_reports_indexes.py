"""Overdue now reads the live deadlines, not the daily facts: its queries must stay on the partial,
covering indexes of migration 0012 (docs/benchmarks.md, "## Reports"). A change to the overdue
condition that no longer matches an index's WHERE clause makes PostgreSQL walk every item again on
a large landlord's data; these plans say so on a small one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from intake.reports import queries
from intake.runtime import Runtime

NOW = datetime(2026, 10, 14, 11, 0, tzinfo=UTC)


def _plan(runtime: Runtime, run: Callable[[Session], object]) -> str:
    """PostgreSQL's plan for the last statement `run` executes, with sequential scans priced out (the
    fixed data set is a few rows, where a scan is cheapest; a million items are not)."""
    engine = runtime.database.engine
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    with runtime.database.session() as session:
        session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
        event.listen(engine, "before_cursor_execute", capture)
        try:
            run(session)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        statement, parameters = statements[-1]
        rows = session.connection().exec_driver_sql(f"EXPLAIN {statement}", parameters)  # type: ignore[arg-type]
        return "\n".join(row[0] for row in rows)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # the plans are PostgreSQL's
def test_overdue_now_reads_the_open_cases_and_outstanding_deadlines_indexes(
    report_runtime: Runtime, fixed_data: dict[str, int]
) -> None:
    count_plan = _plan(report_runtime, lambda session: queries.overdue_case_count(session, NOW))
    assert "ix_items_open_cases" in count_plan, count_plan
    assert "ix_deadlines_outstanding_due_at" in count_plan, count_plan

    groups_plan = _plan(report_runtime, lambda session: queries.overdue_deadlines(session, NOW))
    assert "ix_items_open_cases" in groups_plan, groups_plan
    assert "ix_deadlines_outstanding_due_at" in groups_plan, groups_plan
