"""Group commit for the request path: the webhooks waiting at the same moment are stored together.

Each request hands its parsed message to the process's one writer thread and waits. The writer
takes everything that is waiting (up to `MAX_GROUP`), stores it in one transaction
(`pipeline.ingest_group`) and only then answers each request: a 200 still means "this message is
durably committed", but on SQLite eight webhooks now share one commit's fsync (≈ 5 ms on this VM,
synchronous=FULL) instead of paying one each, and on PostgreSQL one transaction's round trips.
Nobody waits for a group to fill: while one group commits, the next one gathers by itself.

If a group fails (a bad message, another process storing the same id between our look-up and our
insert), nothing of it was stored and its messages are stored one by one with `pipeline.ingest`,
so one message's failure is its own and the others are answered as usual.

SQLite has one writer, so one thread writes there. PostgreSQL takes several transactions at once,
but one writer thread is kept there too (`POSTGRES_WRITERS`): a group is two statements on the
writer's own connection (intake/ingest_postgres.py) and its jobs' Redis round trips, and while
one group commits the next one gathers, so larger groups cost less CPU a webhook than parallel
small ones (bench/webhook_cpu.py, 800 webhooks,
alternated, load 5-7: 2.10-2.36 ms a webhook with one writer, 2.56-2.63 with two, 3.00-3.82
with three; requests/s no lower). Threads start with the first messages and end after `IDLE_SECONDS` with
nothing to do, so an app built and dropped (tests) leaves nothing running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import Connection, Pool

from channels.message import InboundMessage
from intake.pipeline import IngestResult, ingest, ingest_group, stores_in_two_statements, validate_message
from intake.runtime import Runtime
from intake.sqlite_writers import request_path

log = logging.getLogger(__name__)

MAX_GROUP = 64
IDLE_SECONDS = 2.0
POSTGRES_WRITERS = 1
# The writer thread and the event loop take turns at the GIL: every statement's return from the
# database waits for the loop to give the GIL up, by default after up to 5 ms of its own work
# (sys.getswitchinterval). At 0.5 ms the writer is back within a fraction of a webhook's parsing.
# SQLite webhooks, five alternated pairs on a noisy host: 0.64 x bare against 0.57 (docs/benchmarks.md).
GIL_SWITCH_SECONDS = 0.0005


@dataclass
class _Waiting:
    message: InboundMessage
    actor: str
    answer: Future[IngestResult] = field(default_factory=Future)
    # A request on an event loop (`store`) is answered there too: one wake-up of its loop a group,
    # not one a message (each wake-up is a write to the loop's self-pipe and a turn of the loop).
    loop: asyncio.AbstractEventLoop | None = None
    loop_answer: asyncio.Future[IngestResult] | None = None


class IngestGroups:
    """The one writer of a process's request path, for one runtime."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        writers: int | None = None,
        max_group: int = MAX_GROUP,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.runtime = runtime
        sqlite = runtime.database.engine.dialect.name == "sqlite"
        self.writers = writers or (1 if sqlite else POSTGRES_WRITERS)
        # PostgreSQL (pipeline.stores_in_two_statements): each writer keeps one AUTOCOMMIT
        # connection from group to group until it ends, so a group is its two statements and no
        # pool checkout (whose ping is a round trip of its own); single messages go that way too.
        self.keeps_a_connection = stores_in_two_statements(runtime)
        self.max_group = max_group
        self.idle_seconds = idle_seconds
        self._waiting: queue.SimpleQueue[_Waiting] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = 0  # writer threads alive
        self.groups_written = 0  # how many transactions stored more than one message (for tests, benches)
        self.batches = 0  # how many times a writer took what was waiting (benches: mean group size)

    def submit(self, message: InboundMessage, *, actor: str) -> Future[IngestResult]:
        """Queue `message` for the next group; the future is answered once it is committed.
        An invalid message (no external id, unknown channel) is refused here, before any group."""
        [answer] = self.submit_many([message], actor=actor)
        return answer

    def submit_many(self, messages: list[InboundMessage], *, actor: str) -> list[Future[IngestResult]]:
        """Queue several messages at once: with no writer busy, they are stored as one group."""
        for message in messages:
            validate_message(message)
        waiting = [_Waiting(message, actor) for message in messages]
        self._enqueue(waiting)
        return [each.answer for each in waiting]

    def _enqueue(self, waiting: list[_Waiting]) -> None:
        with self._lock:
            for each in waiting:
                self._waiting.put(each)
            if self._running < self.writers:
                self._running += 1
                threading.Thread(target=self._run, name="intake-ingest-writer", daemon=True).start()

    async def store(self, message: InboundMessage, *, actor: str) -> IngestResult:
        """`submit` for a request on an event loop: waits, holding no thread, until committed.

        A request cancelled while it waits (a client gone away, a server shutting down) leaves its
        message queued: it is stored all the same — Twilio does not send an inbound text again,
        and a repeat is recognised by its id anyway.
        """
        validate_message(message)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[IngestResult] = loop.create_future()
        self._enqueue([_Waiting(message, actor, loop=loop, loop_answer=answer)])
        return await answer

    def ingest(self, message: InboundMessage, *, actor: str) -> IngestResult:
        """`pipeline.ingest`, stored in the next group: blocks until committed (or raises its error)."""
        return self.submit(message, actor=actor).result()

    def _run(self) -> None:
        request_path()  # on SQLite, this thread's transactions go before the worker's
        if sys.getswitchinterval() > GIL_SWITCH_SECONDS:
            sys.setswitchinterval(GIL_SWITCH_SECONDS)
        kept = _KeptConnection(self.runtime) if self.keeps_a_connection else None
        try:
            self._take_groups(kept)
        finally:
            if kept is not None:
                kept.close()

    def _take_groups(self, kept: _KeptConnection | None) -> None:
        while True:
            try:
                first = self._waiting.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._waiting.empty():
                        self._running -= 1
                        return
                continue
            group = [first]
            while len(group) < self.max_group:
                try:
                    group.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            # The request path never cancels the thread-safe future (a request cancelled while it
            # waits in `store` leaves its message queued, to be stored); one cancelled by a direct
            # caller of `submit` is dropped here, and from here on none can be cancelled.
            group = [waiting for waiting in group if waiting.answer.set_running_or_notify_cancel()]
            if not group:
                continue
            try:
                self._write(group, kept)
            except BaseException as error:  # never leave a request waiting on a writer that is gone
                for waiting in group:
                    if not waiting.answer.done():
                        waiting.answer.set_exception(error)
                with self._lock:
                    self._running -= 1
                raise
            finally:
                _answer_event_loops(group)

    def _write(self, group: list[_Waiting], kept: _KeptConnection | None) -> None:
        self.batches += 1
        if len(group) > 1 or kept is not None:
            try:
                results = ingest_group(
                    self.runtime,
                    [(waiting.message, waiting.actor) for waiting in group],
                    connection=kept.connection() if kept is not None else None,
                )
            except Exception as error:  # noqa: BLE001 - each message is tried again alone, below
                if kept is not None:
                    kept.close()  # whatever state it is in (a server restarted?), the next group opens another
                log.info("a group of %d messages failed (%s); storing them one by one", len(group), error)
            else:
                self.groups_written += len(group) > 1
                for waiting, result in zip(group, results, strict=True):
                    waiting.answer.set_result(result)
                return
        for waiting in group:
            try:
                waiting.answer.set_result(ingest(self.runtime, waiting.message, actor=waiting.actor))
            except BaseException as error:  # handed to the request that sent it, which raises it
                waiting.answer.set_exception(error)


class _KeptConnection:
    """A writer's AUTOCOMMIT connection, opened when first needed and kept until closed."""

    def __init__(self, runtime: Runtime) -> None:
        self.engine = runtime.database.engine
        self._connection: Connection | None = None
        self._pool: Pool | None = None

    def connection(self) -> Connection:
        if self._connection is None:
            self._pool = self.engine.pool
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    def close(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        with contextlib.suppress(Exception):  # a broken connection is discarded all the same
            if self.engine.pool is self._pool:
                connection.close()  # back to the pool
            else:  # the engine was disposed of meanwhile (a test's end, a shutdown): its pool is gone
                connection.invalidate()
                connection.close()


def _answer_event_loops(group: list[_Waiting]) -> None:
    """Hand each event loop the answers of its requests in this group, in one call."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Waiting]] = {}
    for waiting in group:
        if waiting.loop is not None:
            by_loop.setdefault(waiting.loop, []).append(waiting)
    for loop, waitings in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is left to answer
            loop.call_soon_threadsafe(_copy_answers, waitings)


def _copy_answers(waitings: list[_Waiting]) -> None:
    """On the loop: each request's answer, as the writer set it on the thread-safe future."""
    for waiting in waitings:
        answer = waiting.loop_answer
        if answer is None or answer.done():  # its request was cancelled; the message is stored all the same
            continue
        if not waiting.answer.done():  # never expected: a writer that answers every message it takes
            answer.set_exception(RuntimeError("the ingest writer stopped without answering"))
            continue
        error = waiting.answer.exception()
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(waiting.answer.result())
