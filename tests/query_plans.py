"""The database's plan for a query the product runs, for tests that keep a query on its index."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from intake.runtime import Runtime


def plan_of_last_statement(
    runtime: Runtime, run: Callable[[Session], object], *, containing: str | None = None
) -> str:
    """The plan for the last statement `run` executes (`containing`: the last one with that text).

    PostgreSQL: `EXPLAIN`, with sequential scans priced out (a test's few rows are cheapest to
    scan; a landlord's million items are not). SQLite: `EXPLAIN QUERY PLAN`, whose choice does not
    depend on the rows there are (SQLite keeps no statistics unless ANALYZE runs), one line a step.
    """
    engine = runtime.database.engine
    postgres = engine.dialect.name == "postgresql"
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if containing is None or containing in statement:
            statements.append((statement, parameters))

    with runtime.database.session() as session:
        if postgres:
            session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
        event.listen(engine, "before_cursor_execute", capture)
        try:
            run(session)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        assert statements, f"no statement containing {containing!r} was run"
        statement, parameters = statements[-1]
        explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
        rows = session.connection().exec_driver_sql(f"{explain} {statement}", parameters)  # type: ignore[arg-type]
        return "\n".join(str(row[0] if postgres else row[-1]) for row in rows)
