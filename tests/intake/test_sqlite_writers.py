"""SQLite writers take turns (intake/sqlite_writers.py) instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from intake import sqlite_writers
from intake.db import Database, make_engine
from intake.sqlite_writers import SqliteWriters
from intake.workers import STEP_BACK_MAX_SECONDS, step_back_seconds
from tests.conftest import make_settings


def _engine(path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
    return engine


def test_a_waiting_writer_gets_the_lock_within_milliseconds_of_its_release_not_at_the_busy_handlers_next_look(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path / "turns.db")
    holder_committed = threading.Event()
    waits: list[float] = []

    def hold() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            time.sleep(0.7)  # past SQLite's busy handler's 328 ms of short sleeps: it looks every 100 ms now
        holder_committed.set()

    def wait_then_write() -> None:
        with engine.begin() as connection:
            waits.append(time.monotonic())
            connection.execute(text("INSERT INTO t VALUES (2)"))

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    waiter = threading.Thread(target=wait_then_write)
    waiter.start()
    holder_committed.wait(5)
    released = time.monotonic()
    holder.join(5)
    waiter.join(5)
    assert waits and waits[0] - released < 0.03
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 2
    engine.dispose()


def test_writers_in_two_processes_take_turns_and_every_write_lands(tmp_path: Path) -> None:
    path = tmp_path / "processes.db"
    _engine(path).dispose()
    pid = os.fork()
    if pid == 0:  # the second process: a worker beside the web server
        code = 1
        try:
            engine = make_engine(f"sqlite:///{path}")
            for n in range(50):
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            code = 0
        finally:
            os._exit(code)
    engine = make_engine(f"sqlite:///{path}")

    def write(count: int) -> None:
        for n in range(count):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    threads = [threading.Thread(target=write, args=(50,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 250
    engine.dispose()


def test_a_writer_that_cannot_get_its_turn_in_time_goes_ahead_to_sqlites_own_locking(tmp_path: Path) -> None:
    path = str(tmp_path / "timeout.db")
    writers = SqliteWriters(path, timeout_seconds=0.2)
    other = SqliteWriters(path, timeout_seconds=0.2)  # another process's view: its own open file
    holder: dict[str, object] = {}
    other.acquire(holder)
    assert holder
    started = time.monotonic()
    info: dict[str, object] = {}
    writers.acquire(info)
    assert not info  # gave up waiting for the turn after the timeout, without holding anything
    assert 0.2 <= time.monotonic() - started < 2
    other.release(holder)
    writers.acquire(info)
    assert info
    writers.release(info)
    writers.close()
    other.close()


def test_the_request_path_writes_before_a_worker_that_began_waiting_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_writers, "YIELD_SECONDS", 5.0)  # timing-proof: the worker steps aside this long
    engine = _engine(tmp_path / "priority.db")
    order: list[str] = []

    def hold() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (0)"))
            time.sleep(0.4)

    def write(name: str, *, request_path: bool) -> None:
        if request_path:
            sqlite_writers.request_path()
        with engine.begin() as connection:
            order.append(name)
            connection.execute(text("INSERT INTO t VALUES (1)"))

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    worker = threading.Thread(target=write, args=("worker",), kwargs={"request_path": False})
    worker.start()
    time.sleep(0.15)  # the worker has been waiting a while when the webhook's group arrives
    webhook = threading.Thread(target=write, args=("webhook",), kwargs={"request_path": True})
    webhook.start()
    for thread in (holder, worker, webhook):
        thread.join(10)
    assert order == ["webhook", "worker"]
    engine.dispose()


def test_the_worker_beside_the_server_sees_when_webhooks_are_being_stored(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    database = Database(make_settings(tmp_path, f"sqlite:///{path}"))
    web_server = SqliteWriters(str(path), timeout_seconds=5)  # the server process's view: its own open files
    writing, written = threading.Event(), threading.Event()

    def store_a_webhook_group() -> None:
        sqlite_writers.request_path()
        info: dict[str, object] = {}
        web_server.acquire(info)
        writing.set()
        written.wait(10)
        web_server.release(info)

    assert not database.request_path_active()
    writer = threading.Thread(target=store_a_webhook_group)
    writer.start()
    assert writing.wait(10)
    assert database.request_path_active()
    written.set()
    writer.join(10)
    assert not database.request_path_active()
    web_server.close()
    database.dispose()


def test_the_worker_steps_back_only_while_webhooks_are_being_stored_and_never_for_long() -> None:
    assert step_back_seconds(request_path_active=False, batch_seconds=0.3) == 0.0
    assert step_back_seconds(request_path_active=True, batch_seconds=0.05) == pytest.approx(0.1)
    assert step_back_seconds(request_path_active=True, batch_seconds=30.0) == STEP_BACK_MAX_SECONDS
