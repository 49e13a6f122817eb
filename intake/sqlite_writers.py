"""SQLite's one writer, handed over in turn instead of by SQLite's busy handler.

SQLite lets one connection write at a time. A connection that finds the write lock taken waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10 … and then 100 ms between looks: with eight
webhooks and a worker all writing, a request that lost a few rounds slept for a second while the
lock was free most of that time (the embedded mode's webhook p99 was 1.1 s, docs/benchmarks.md).

Here every write transaction (each one begins with BEGIN IMMEDIATE, intake/db.py) first takes
- a lock inside the process, so a process's threads queue for the writer one at a time, and
- an exclusive `flock` on a file beside the database, looked at every millisecond, so the web
  server and its worker process hand the writer over to each other within about a millisecond,
and gives both back when the transaction commits or rolls back. A transaction that cannot get them
within SQLite's busy timeout goes ahead anyway and waits in SQLite's busy handler exactly as before:
this only changes who waits how, never whether SQLite's own locking decides.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from typing import Any

POLL_SECONDS = 0.001
HELD = "intake_sqlite_writer"  # key in the DBAPI connection's info: this connection holds the writer


class SqliteWriters:
    """The writer turn for one SQLite database file, shared by every connection of a process."""

    def __init__(self, database_path: str, timeout_seconds: float) -> None:
        self.lock_path = database_path + "-writer.lock"
        self.timeout_seconds = timeout_seconds
        self._threads = threading.RLock()
        self._depth = 0  # nested transactions of the thread holding `_threads`
        self._file: int | None = None
        self._pid = os.getpid()

    def acquire(self, info: dict[str, Any]) -> None:
        """Wait for the writer's turn (at most the busy timeout); marks `info` when it got it."""
        deadline = time.monotonic() + self.timeout_seconds
        if not self._threads.acquire(timeout=self.timeout_seconds):
            return  # SQLite's busy handler decides, as it did before
        try:
            if self._depth == 0 and not self._lock_file(deadline):
                self._threads.release()
                return
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1
        info[HELD] = True

    def release(self, info: dict[str, Any]) -> None:
        if not info.pop(HELD, False):
            return
        self._depth -= 1
        if self._depth == 0 and self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        try:
            self._threads.release()
        except RuntimeError:  # handed back from another thread (a connection's finaliser): not ours to count
            self._depth += 1

    def _lock_file(self, deadline: float) -> bool:
        if self._file is None or self._pid != os.getpid():
            # A forked worker process gets a file of its own: flock is per open file, and the
            # parent's would make parent and child one holder.
            self._file = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(POLL_SECONDS)

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                os.close(self._file)
            self._file = None
