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

The request path goes first. A resident's webhook is answered only once it is committed, and the
worker's transactions (a few items each) are long beside a group of webhooks; when both wait, the
webhooks take the turn. A thread marked with `request_path()` (the group writer,
intake/ingest_groups.py) holds a shared `flock` on a second file from before it waits until it
hands the writer back; any other writer first waits, at most `YIELD_SECONDS`, until it could take
that file exclusively — no request-path writer waiting or writing — so the worker still gets a turn
at least that often during a burst of webhooks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from typing import Any

POLL_SECONDS = 0.001
YIELD_SECONDS = 0.1  # the longest any other writer steps aside for the request path, per transaction
HELD = "intake_sqlite_writer"  # key in the DBAPI connection's info: this connection holds the writer
HELD_URGENT = "intake_sqlite_writer_urgent"  # … and announced itself as the request path

_thread_role = threading.local()


def request_path() -> None:
    """Mark the calling thread as the request path's writer: its write transactions go first."""
    _thread_role.request_path = True


def _is_request_path() -> bool:
    return bool(getattr(_thread_role, "request_path", False))


class SqliteWriters:
    """The writer turn for one SQLite database file, shared by every connection of a process."""

    def __init__(self, database_path: str, timeout_seconds: float) -> None:
        self.lock_path = database_path + "-writer.lock"
        self.priority_path = database_path + "-writer.priority"
        self.timeout_seconds = timeout_seconds
        self._threads = threading.RLock()
        self._depth = 0  # nested transactions of the thread holding `_threads`
        self._file: int | None = None
        # Two descriptors of the priority file: flock belongs to an open file, so the request path's
        # shared lock and another thread's look for an exclusive one conflict even in one process.
        self._priority_held: int | None = None  # the request path's shared lock
        self._priority_probe: int | None = None  # everyone else's look
        self._urgent_depth = 0
        self._pid = os.getpid()
        self._priority_lock = threading.Lock()

    def acquire(self, info: dict[str, Any]) -> None:
        """Wait for the writer's turn (at most the busy timeout); marks `info` when it got it."""
        deadline = time.monotonic() + self.timeout_seconds
        self._reopen_after_fork()
        urgent = _is_request_path()
        if urgent:
            self._announce_request_path()
            info[HELD_URGENT] = True  # withdrawn by `release`, whatever happens next
        yield_until = time.monotonic() + YIELD_SECONDS
        while True:
            if not urgent:
                self._let_request_path_go_first(yield_until)
            if not self._take_turn(deadline):
                return  # SQLite's busy handler decides, as it did before
            # A request-path writer that began waiting meanwhile goes first (while we may yield).
            if urgent or self._depth > 0 or time.monotonic() > yield_until or not self._request_path_waiting():
                break
            self._give_turn_back()
            time.sleep(POLL_SECONDS)
        self._depth += 1
        info[HELD] = True

    def _take_turn(self, deadline: float) -> bool:
        if not self._threads.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        try:
            if self._depth == 0 and not self._lock_file(deadline):
                self._threads.release()
                return False
        except BaseException:
            self._threads.release()
            raise
        return True

    def _give_turn_back(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()

    def release(self, info: dict[str, Any]) -> None:
        if info.pop(HELD_URGENT, False):
            self._withdraw_request_path()
        if not info.pop(HELD, False):
            return
        self._depth -= 1
        if self._depth == 0 and self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        try:
            self._threads.release()
        except RuntimeError:  # handed back from another thread (a connection's finaliser): not ours to count
            self._depth += 1

    def _reopen_after_fork(self) -> None:
        if self._pid != os.getpid():
            # A forked worker process gets files of its own: flock is per open file, and the
            # parent's would make parent and child one holder.
            self._file = self._priority_held = self._priority_probe = None
            self._urgent_depth = 0
            self._pid = os.getpid()

    def _announce_request_path(self) -> None:
        # One request-path writer per process at a time in practice; counted all the same.
        with self._priority_lock:
            if self._urgent_depth == 0:
                if self._priority_held is None:
                    self._priority_held = os.open(self.priority_path, os.O_RDWR | os.O_CREAT, 0o600)
                # Blocks only while another writer holds it exclusively, which is for an instant.
                fcntl.flock(self._priority_held, fcntl.LOCK_SH)
            self._urgent_depth += 1

    def _withdraw_request_path(self) -> None:
        with self._priority_lock:
            if self._urgent_depth == 0:
                return
            self._urgent_depth -= 1
            if self._urgent_depth == 0 and self._priority_held is not None:
                fcntl.flock(self._priority_held, fcntl.LOCK_UN)

    def _let_request_path_go_first(self, until: float) -> None:
        """Wait (until `until`) while a request-path writer is waiting or writing."""
        while self._request_path_waiting() and time.monotonic() < until:
            time.sleep(POLL_SECONDS)

    def request_path_active(self) -> bool:
        """Whether a request-path writer (any process's) is waiting for the writer or writing now."""
        return self._request_path_waiting()

    def _request_path_waiting(self) -> bool:
        with self._priority_lock:
            if self._priority_probe is None:
                self._priority_probe = os.open(self.priority_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(self._priority_probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(self._priority_probe, fcntl.LOCK_UN)
            return False

    def _lock_file(self, deadline: float) -> bool:
        if self._file is None:
            self._file = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(POLL_SECONDS)

    def close(self) -> None:
        for descriptor in (self._file, self._priority_held, self._priority_probe):
            if descriptor is not None:
                with contextlib.suppress(OSError):
                    os.close(descriptor)
        self._file = self._priority_held = self._priority_probe = None
