"""Engine and session factory, built from settings (never at import time), and migrations."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from intake.settings import Settings
from intake.sqlite_writers import SqliteWriters

SQLITE_BUSY_TIMEOUT_SECONDS = 30
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"


# The writers' turn of each SQLite file engine (make_engine), for `Database.request_path_active`.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, SqliteWriters] = weakref.WeakKeyDictionary()


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        _ensure_sqlite_directory(database_url)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        path = database_url.split("///", 1)[-1]
        if not path or path == ":memory:" or "mode=memory" in path:
            event.listen(engine, "begin", _sqlite_begin_immediate)
            return engine
        # Writers take turns (intake/sqlite_writers.py) rather than sleeping in SQLite's busy handler.
        writers = SqliteWriters(path.split("?", 1)[0], timeout_seconds=SQLITE_BUSY_TIMEOUT_SECONDS)
        _SQLITE_WRITERS[engine] = writers

        def begin(connection) -> None:  # type: ignore[no-untyped-def]
            info = connection.connection.info
            writers.acquire(info)
            try:
                _sqlite_begin_immediate(connection)
            except BaseException:
                writers.release(info)
                raise

        event.listen(engine, "begin", begin)
        event.listen(engine, "commit", lambda connection: writers.release(connection.connection.info))
        event.listen(engine, "rollback", lambda connection: writers.release(connection.connection.info))
        # A connection handed back to the pool never keeps the writer's turn.
        event.listen(engine, "checkin", lambda _dbapi, record: writers.release(record.info))
        return engine
    return create_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _ensure_sqlite_directory(database_url: str) -> None:
    path = database_url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the API read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()
    # The driver's own BEGIN (deferred, and only before DML) is replaced by _sqlite_begin_immediate.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
    # A deferred transaction that reads and then writes cannot wait for another writer: SQLite
    # answers "database is locked" at once. Taking the write lock at BEGIN makes concurrent
    # writers (webhooks, jobs) queue on busy_timeout instead. SQLAlchemy's documented pysqlite recipe.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One engine and session factory per process (or per test)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def request_path_active(self) -> bool:
        """SQLite: whether webhooks are being stored right now (a request-path writer of any process
        waits for the writer's turn or writes). Always False on PostgreSQL, which has no one writer."""
        writers = _SQLITE_WRITERS.get(self.engine)
        return writers is not None and writers.request_path_active()

    def upgrade(self, revision: str = "heads") -> None:
        upgrade_database(self.engine, revision)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_database(engine: Engine, revision: str = "heads") -> None:
    """Apply every migration. "heads", not "head": work done side by side may add migrations that each
    follow the last released one; all of them are applied (a merge revision joins them at release)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
