"""The embedded mode's job queue: rows in the `job_queue` table, claimed in batches by a worker process.

Without Redis, `intake serve` starts `intake worker` beside the web server and both share this
queue. The request path queues a job inside its own transaction (one commit stores the item and its
job); a worker claims up to N ready rows at once, acknowledgements first, runs them with the same job
functions rq runs, and deletes each row when its job succeeds. A failed job goes back to the queue
with a back-off, and after `max_attempts` stays `failed` for a person (`intake failed-jobs`).

A job is never queued twice (`key` is unique) and every job is idempotent, so a worker that dies
mid-job costs nothing but time: its rows are handed back by the process that started it
(`release_worker`), or by any worker once the holder is gone (`reclaim_abandoned`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from intake.clock import SYSTEM_CLOCK
from intake.db import Database
from models import QueuedJob

log = logging.getLogger(__name__)

ACKNOWLEDGEMENT_PRIORITY = 0  # claimed before anything else: a resident waits on these
PROCESS_PRIORITY = 1
OTHER_PRIORITY = 2
# Back-off between attempts, in seconds (the n-th retry waits the n-th interval); as rq's Retry.
BACKOFF_SECONDS = (5, 30, 120, 600, 1800, 3600)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    key: str
    function: str
    args: list[Any]
    attempts: int
    max_attempts: int


def worker_name(pid: int | None = None) -> str:
    """Who holds a claimed job: this host and a process id, so a dead holder can be recognised."""
    return f"{socket.gethostname()}.{pid if pid is not None else os.getpid()}"


class DatabaseJobQueue:
    """Queue and claim jobs in the database. Same job ids and functions as the rq queue."""

    def __init__(self, database: Database, now: Callable[[], datetime] | None = None) -> None:
        self.database = database
        # Every time this queue writes or compares (run_after, locked_at, a held job's timeout) is
        # stored in the table and compared by other processes, so it must be the domain's clock (the
        # runtime's, wired in by Runtime.build), not a per-process monotonic one.
        self.now: Callable[[], datetime] = now or SYSTEM_CLOCK.now
        self._held = threading.local()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Jobs queued without a session inside this block are written together, in one transaction,
        when it ends (a worker's batch: one commit for all the acknowledgements it planned)."""
        self._held.statements = []
        try:
            yield
        finally:
            statements, self._held.statements = self._held.statements, None
            if statements:
                with self.database.session() as session:
                    for statement in statements:
                        session.execute(statement)

    # --- queueing -------------------------------------------------------------------------------

    def enqueue(
        self,
        function: str,
        *args: Any,
        job_id: str,
        priority: int = OTHER_PRIORITY,
        max_attempts: int = len(BACKOFF_SECONDS),
        timeout: int | None = None,
        session: Session | None = None,
    ) -> None:
        """Queue a job unless it is queued or running already; a failed one is queued again.

        With `session`, the row is written in that session's transaction: it exists exactly when
        what it refers to was committed.
        """
        insert = postgresql.insert if self.database.engine.dialect.name == "postgresql" else sqlite.insert
        now = self.now()
        statement = insert(QueuedJob).values(
            key=job_id,
            function=function,
            args=list(args),
            priority=priority,
            status="queued",
            attempts=0,
            max_attempts=max_attempts,
            timeout_seconds=timeout or 600,
            run_after=now,
            created_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[QueuedJob.key],
            set_={"status": "queued", "attempts": 0, "run_after": now, "last_error": None},
            where=QueuedJob.status == "failed",
        )
        if session is not None:
            session.execute(statement)
            return
        held = getattr(self._held, "statements", None)
        if held is not None:
            held.append(statement)
            return
        with self.database.session() as own:
            own.execute(statement)

    def enqueue_many(
        self,
        function: str,
        jobs: list[tuple[tuple[Any, ...], str]],
        *,
        priority: int = OTHER_PRIORITY,
        max_attempts: int = len(BACKOFF_SECONDS),
        session: Session | None = None,
    ) -> None:
        """`enqueue` for several (args, job id) of one function, in `session`'s transaction (or a
        transaction of their own, as `enqueue`), as one executemany through Core (the request
        path's group of webhooks)."""
        if not jobs:
            return
        statement = self.enqueue_statement()
        rows = self.job_rows(function, jobs, priority=priority, max_attempts=max_attempts)
        if session is not None:
            session.connection().execute(statement, rows)
            return
        with self.database.session() as own:
            own.connection().execute(statement, rows)

    def enqueue_statement(self) -> Any:
        """`enqueue_many`'s INSERT: a job queued already is left as it is, a failed one queued again."""
        return _queue_unless_queued(self.database.engine.dialect.name)

    def job_rows(
        self,
        function: str,
        jobs: list[tuple[tuple[Any, ...], str]],
        *,
        priority: int = OTHER_PRIORITY,
        max_attempts: int = len(BACKOFF_SECONDS),
    ) -> list[dict[str, Any]]:
        """The `job_queue` rows of several (args, job id) of one function, ready from now."""
        now = self.now()
        return [
            {
                "key": job_id,
                "function": function,
                "args": list(args),
                "priority": priority,
                "status": "queued",
                "attempts": 0,
                "max_attempts": max_attempts,
                "timeout_seconds": 600,
                "run_after": now,
                "created_at": now,
            }
            for args, job_id in jobs
        ]

    # --- claiming and finishing -----------------------------------------------------------------

    def claim(self, holder: str, *, limit: int) -> list[ClaimedJob]:
        """Up to `limit` ready jobs of the most urgent priority that has any, now held by `holder`."""
        now = self.now()
        with self.database.session() as session:
            ready = (
                select(QueuedJob)
                .where(QueuedJob.status == "queued", QueuedJob.run_after <= now)
                .order_by(QueuedJob.priority, QueuedJob.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list(session.scalars(ready))
            if not rows:
                return []
            # One kind per batch: acknowledgements never wait for a batch of items to be classified.
            rows = [row for row in rows if row.priority == rows[0].priority]
            session.execute(
                update(QueuedJob)
                .where(QueuedJob.id.in_([row.id for row in rows]))
                .values(status="running", locked_by=holder, locked_at=now, attempts=QueuedJob.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            return [
                ClaimedJob(row.id, row.key, row.function, list(row.args), row.attempts + 1, row.max_attempts)
                for row in rows
            ]

    def finished(self, job_ids: list[int], holder: str) -> None:
        if not job_ids:
            return
        with self.database.session() as session:
            session.execute(
                delete(QueuedJob).where(QueuedJob.id.in_(job_ids), QueuedJob.locked_by == holder)
            )

    def failed(self, job: ClaimedJob, holder: str, error: str) -> None:
        """Back to the queue after a back-off, or `failed` for good after the last attempt."""
        final = job.attempts >= job.max_attempts
        delay = BACKOFF_SECONDS[min(job.attempts, len(BACKOFF_SECONDS)) - 1]
        with self.database.session() as session:
            session.execute(
                update(QueuedJob)
                .where(QueuedJob.id == job.id, QueuedJob.locked_by == holder)
                .values(
                    status="failed" if final else "queued",
                    run_after=self.now() + timedelta(seconds=delay),
                    locked_by=None,
                    locked_at=None,
                    last_error=error[-2000:],
                )
            )

    # --- recovery -------------------------------------------------------------------------------

    def release_worker(self, holder: str) -> int:
        """Hand back every job `holder` was running (it died): queued again, or failed when out of attempts."""
        with self.database.session() as session:
            base = update(QueuedJob).where(QueuedJob.status == "running", QueuedJob.locked_by == holder)
            # An UPDATE's result is a CursorResult, which has the row count.
            exhausted = cast(
                "CursorResult[Any]",
                session.execute(
                    base.where(QueuedJob.attempts >= QueuedJob.max_attempts).values(
                        status="failed", locked_by=None, last_error="its worker died while running it"
                    )
                ),
            ).rowcount
            requeued = cast(
                "CursorResult[Any]",
                session.execute(base.values(status="queued", locked_by=None, locked_at=None, run_after=self.now())),
            ).rowcount
        if requeued or exhausted:
            log.warning("worker %s died: %s job(s) queued again, %s failed", holder, requeued, exhausted)
        return int(requeued or 0) + int(exhausted or 0)

    def reclaim_abandoned(self) -> int:
        """Hand back jobs held by dead processes of this host, or held past their timeout by anyone."""
        now = self.now()
        host = socket.gethostname()
        with self.database.session() as session:
            running = session.execute(
                select(QueuedJob.locked_by, QueuedJob.locked_at, QueuedJob.timeout_seconds).where(
                    QueuedJob.status == "running"
                )
            ).all()
        holders = set()
        for holder, locked_at, timeout in running:
            if holder is None:
                continue
            name, _, pid = holder.rpartition(".")
            dead = name == host and pid.isdigit() and not process_alive(int(pid))
            overdue = locked_at is not None and locked_at + timedelta(seconds=timeout) < now
            if dead or overdue:
                holders.add(holder)
        return sum(self.release_worker(holder) for holder in holders)

    # --- looking -------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self.database.session() as session:
            rows = session.execute(select(QueuedJob.status, func.count()).group_by(QueuedJob.status)).all()
        return {status: count for status, count in rows}

    def failed_jobs(self) -> list[dict[str, Any]]:
        with self.database.session() as session:
            rows = session.scalars(select(QueuedJob).where(QueuedJob.status == "failed").order_by(QueuedJob.id))
            return [
                {"id": row.key, "function": row.function, "args": list(row.args), "error": row.last_error or ""}
                for row in rows
            ]


def process_alive(pid: int) -> bool:
    """Whether process `pid` of this host is running (a zombie, killed but not yet reaped, is not).

    A pid reused by another process reads as alive: the caller then waits, as it would have anyway.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:  # no /proc (not Linux): kill(0) is all we know
        return True


@cache
def _queue_unless_queued(dialect: str) -> Any:
    """`enqueue_many`'s INSERT, built once: a failed job's row is queued again from now."""
    table = cast(Table, QueuedJob.__table__)
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"status": "queued", "attempts": 0, "run_after": statement.excluded.run_after, "last_error": None},
        where=table.c.status == "failed",
    )
