"""A benchmark's own PostgreSQL database, dropped and created empty before each run."""

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
