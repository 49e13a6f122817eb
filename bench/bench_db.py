"""A benchmark's own PostgreSQL database, dropped and created empty before each run, then given a history."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def recreate_postgres(database_url: str) -> None:
    url = make_url(database_url)
    name = url.database
    assert name and name.replace("_", "").isalnum(), f"unexpected database name {name!r}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


# What a benchmark's PostgreSQL holds before the measured load. A landlord's database has a history and
# the planner's statistics about it; a database created a moment ago, analyzed after a few dozen rows,
# got plans for tables of one page (a sequential scan) that each connection keeps while the run grows
# them to thousands of rows: foreign-key checks and look-ups read every row, and the backends' CPU per
# webhook grew with the run (1.48 ms a webhook over 6,000 against 0.70 after a history of 2,000;
# docs/benchmarks.md, fourteenth session). Sent first, processed where workers run, then `analyze`.
HISTORY_ON_POSTGRES = 2000
# SQLite keeps no plans across statements as PostgreSQL's connections do: a short warm-up there (the
# model loaded, the pools filled), the same in every benchmark that sends webhooks.
WARMUP_ON_SQLITE = 50


def analyze(database_url: str) -> None:
    """Give the planner statistics, as a landlord's database always has them (autovacuum analyzes a
    table once a tenth of it has changed). A database created a moment ago has none, and without them
    PostgreSQL picked plans whose cost grows with every row the run adds (the status index scanned
    whole for a batch's 32 ids: docs/benchmarks.md, seventh session). Statistics of a few dozen rows
    are little better: call it after a history (HISTORY_ON_POSTGRES)."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
