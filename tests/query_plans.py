"""PostgreSQL's plan for a query the product runs, for tests that keep a query on its index."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from intake.runtime import Runtime


def plan_of_last_statement(runtime: Runtime, run: Callable[[Session], object]) -> str:
    """PostgreSQL's plan for the last statement `run` executes, with sequential scans priced out (a
    test's few rows are cheapest to scan; a landlord's million items are not)."""
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
