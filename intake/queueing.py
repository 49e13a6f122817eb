"""Where jobs go: rq on Redis when INTAKE_REDIS_URL is set; otherwise the `job_queue` table, which
the worker process `intake serve` starts beside the web server drains (intake/database_queue.py);
or, with INTAKE_JOBS=inline (tests, one-off scripts), at once in the calling process.

With rq, acknowledgements have a queue of their own (`<queue>-acknowledgements`) that workers take
from first, so a resident's acknowledgement never waits behind a backlog of items to classify.

Given the session of the transaction that stored what a job refers to, `enqueue_*` queue the job
inside that transaction (database queue) or as soon as it commits (rq, inline): never before, or a
worker could look for a row it cannot see yet.

Job ids are deterministic (`process-{item_id}`, `acknowledge-{ack_id}`; rq allows no colon) so a job is never queued
twice; on rq they are namespaced by the queue name (`intake-process-12`), so two deployments or test
runs sharing one Redis never take each other's jobs; every rq job carries a `Retry`, because rq re-runs a job whose worker died only when it has
retries left. Jobs take ids, never ORM objects, and are serialised as JSON, never pickle.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.utils import get_call_string, utcformat
from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from intake.db import Database

from channels.base import TemporarySendError
from intake.clock import SYSTEM_CLOCK
from intake.database_queue import process_alive

log = logging.getLogger(__name__)

PROCESS_ITEM = "intake.jobs.process_item"
SEND_ACKNOWLEDGEMENT = "intake.jobs.send_acknowledgement"
SWEEP = "intake.jobs.sweep"
RETRAIN = "intake.jobs.retrain_model"

# Back-off between retries, in seconds (rq picks the n-th interval for the n-th retry).
PROCESS_RETRY = Retry(max=5, interval=[5, 30, 120, 600, 1800])
# The one retry scheme for a send: rq's job retry and the acknowledgement row's next attempt
# (intake/acknowledgements.py) both read this table.
SEND_BACKOFF_SECONDS = (10, 60, 300, 900, 1800, 3600)
SEND_RETRY = Retry(max=len(SEND_BACKOFF_SECONDS), interval=list(SEND_BACKOFF_SECONDS))
FINISHED_STATES = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED}


ACKNOWLEDGEMENT_QUEUE_SUFFIX = "-acknowledgements"

# A group's jobs in one round trip. KEYS: the queue, rq's set of queues, then each job's hash.
# ARGV: how many shared field/value items follow, those items, then (job id, data, description) a
# job. Creates and queues each job whose hash is absent (as `Queue.enqueue_many` does, with rq's
# unique-enqueue check of `Queue.enqueue_call(unique=True)`), returns the ids of the others.
CREATE_AND_QUEUE_SCRIPT = """
local shared_end = 1 + tonumber(ARGV[1])
local shared = {}
for i = 2, shared_end do shared[#shared + 1] = ARGV[i] end
local existing = {}
local queued = 0
local job = 3
for i = shared_end + 1, #ARGV, 3 do
    if redis.call("EXISTS", KEYS[job]) == 1 then
        existing[#existing + 1] = ARGV[i]
    else
        redis.call("HSET", KEYS[job], "data", ARGV[i + 1], "description", ARGV[i + 2], unpack(shared))
        redis.call("RPUSH", KEYS[1], ARGV[i])
        queued = queued + 1
    end
    job = job + 1
end
if queued > 0 then redis.call("SADD", KEYS[2], KEYS[1]) end
return existing
"""
# The fields of a job's hash that differ from job to job of one function (see `_job_template`).
_PER_JOB_FIELDS = frozenset({"data", "description", "created_at", "enqueued_at"})


class JobQueue(Protocol):
    def enqueue_process_item(self, item_id: int, *, session: Session | None = None) -> None: ...
    def enqueue_process_items(self, item_ids: list[int], *, session: Session | None = None) -> None: ...
    def enqueue_acknowledgement(self, acknowledgement_id: int, *, session: Session | None = None) -> None: ...
    def enqueue_named(self, function: str, *args: Any, job_id: str, timeout: int | None = None) -> None: ...


def after_commit(session: Session | None, action: Callable[[], None]) -> None:
    """Run `action` once `session` commits (at once without a session). Never run on a rollback."""
    if session is None:
        action()
        return
    event.listen(session, "after_commit", lambda _session: action(), once=True)


class InProcessJobQueue:
    """Runs each job at once in the calling process: the embedded default, no Redis needed.

    A job that raises is left to the periodic sweep, exactly as a failed rq job would be, and is
    never swallowed: it is kept in `failures` and logged as an error carrying `job_failed` (the test
    suite fails any test in which that happens). A `TemporarySendError` is not a failure: the
    acknowledgement row already says `retry` and when.
    """

    def __init__(self, resolve: Callable[[str], Callable[..., Any]] | None = None) -> None:
        self._resolve = resolve or _import_function
        self.failures: list[tuple[str, BaseException]] = []

    def enqueue_process_item(self, item_id: int, *, session: Session | None = None) -> None:
        after_commit(session, lambda: self.enqueue_named(PROCESS_ITEM, item_id, job_id=f"process-{item_id}"))

    def enqueue_process_items(self, item_ids: list[int], *, session: Session | None = None) -> None:
        for item_id in item_ids:
            self.enqueue_process_item(item_id, session=session)

    def enqueue_acknowledgement(self, acknowledgement_id: int, *, session: Session | None = None) -> None:
        after_commit(
            session,
            lambda: self.enqueue_named(
                SEND_ACKNOWLEDGEMENT, acknowledgement_id, job_id=f"acknowledge-{acknowledgement_id}"
            ),
        )

    def enqueue_named(self, function: str, *args: Any, job_id: str, timeout: int | None = None) -> None:
        try:
            self._resolve(function)(*args)
        except TemporarySendError as error:
            log.warning("in-process job %s will be retried: %s", job_id, error)
        except Exception as error:
            self.failures.append((job_id, error))
            log.exception(
                "in-process job %s failed; the sweep will retry it",
                job_id,
                extra={"job_failed": True, "job_id": job_id},
            )


def _process_item_jobs(item_ids: list[int]) -> list[tuple[tuple[Any, ...], str]]:
    """The database queue's (args, job id) of each item's `process_item` job."""
    return [((item_id,), f"process-{item_id}") for item_id in item_ids]


class DatabaseQueue:
    """The JobQueue interface over the `job_queue` table (intake/database_queue.py)."""

    def __init__(self, database: Database, now: Callable[[], datetime] | None = None) -> None:
        from intake.database_queue import DatabaseJobQueue

        self.table = DatabaseJobQueue(database, now)

    def enqueue_process_item(self, item_id: int, *, session: Session | None = None) -> None:
        from intake.database_queue import PROCESS_PRIORITY

        self.table.enqueue(
            PROCESS_ITEM, item_id, job_id=f"process-{item_id}", priority=PROCESS_PRIORITY, session=session
        )

    def enqueue_process_items(self, item_ids: list[int], *, session: Session | None = None) -> None:
        """One job per item (workers claim them in batches), written in one statement."""
        from intake.database_queue import PROCESS_PRIORITY

        self.table.enqueue_many(PROCESS_ITEM, _process_item_jobs(item_ids), priority=PROCESS_PRIORITY, session=session)

    def process_item_rows(self, item_ids: list[int]) -> tuple[Any, list[dict[str, Any]]]:
        """`enqueue_process_items` as (statement, rows), for a writer that runs its own statements
        (the SQLite request path, intake/ingest_sqlite.py): the same rows, in its transaction."""
        from intake.database_queue import PROCESS_PRIORITY

        rows = self.table.job_rows(PROCESS_ITEM, _process_item_jobs(item_ids), priority=PROCESS_PRIORITY)
        return self.table.enqueue_statement(), rows

    def enqueue_acknowledgement(self, acknowledgement_id: int, *, session: Session | None = None) -> None:
        from intake.database_queue import ACKNOWLEDGEMENT_PRIORITY

        self.table.enqueue(
            SEND_ACKNOWLEDGEMENT,
            acknowledgement_id,
            job_id=f"acknowledge-{acknowledgement_id}",
            priority=ACKNOWLEDGEMENT_PRIORITY,
            session=session,
        )

    def enqueue_named(self, function: str, *args: Any, job_id: str, timeout: int | None = None) -> None:
        self.table.enqueue(function, *args, job_id=job_id, timeout=timeout)

    def failed_jobs(self) -> list[dict[str, Any]]:
        return self.table.failed_jobs()


class RqJobQueue:
    def __init__(
        self, redis_url: str, queue_name: str = "intake", now: Callable[[], datetime] | None = None
    ) -> None:
        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(queue_name, connection=self.connection, serializer=JSONSerializer)
        self.acknowledgements = Queue(
            queue_name + ACKNOWLEDGEMENT_QUEUE_SUFFIX, connection=self.connection, serializer=JSONSerializer
        )
        self.job_id_prefix = f"{queue_name}-"
        # The group script's `created_at` / `enqueued_at`, in UTC: the runtime's clock (Runtime.build
        # gives it), as the database queue's; rq stamps the jobs it queues itself (`_enqueue`) with
        # the machine's, which is the same clock in service.
        self.now: Callable[[], datetime] = now or SYSTEM_CLOCK.now
        self._create_and_queue = self.connection.register_script(CREATE_AND_QUEUE_SCRIPT)
        self._templates: dict[tuple[str, int], list[bytes]] = {}

    @property
    def queues(self) -> list[Queue]:
        """In the order workers take from them: acknowledgements first."""
        return [self.acknowledgements, self.queue]

    def enqueue_process_item(self, item_id: int, *, session: Session | None = None) -> None:
        after_commit(
            session,
            lambda: self._enqueue(PROCESS_ITEM, item_id, job_id=f"process-{item_id}", retry=PROCESS_RETRY),
        )

    def enqueue_process_items(self, item_ids: list[int], *, session: Session | None = None) -> None:
        """One job per item (rq workers take the next queued items along, intake/batches.py), queued
        after the commit in one Redis round trip (one script) rather than a round trip each."""
        after_commit(
            session, lambda: self._enqueue_many(PROCESS_ITEM, item_ids, kind="process-", retry=PROCESS_RETRY)
        )

    def _enqueue_many(self, function: str, ids: list[int], *, kind: str, retry: Retry) -> None:
        # One round trip: a Lua script creates and queues each job whose id is free, atomically, and
        # names those that exist already (asked for by the sweep, or left from a deleted row's id),
        # which go through `_enqueue` to be decided by their state. Atomic, so a job another process
        # creates meanwhile is never queued twice. Each job's hash is rq's own for that job: the fields
        # every job of this function shares come from a job rq built (`_job_template`), the two that
        # name the item (`data`, `description`) from rq's serializer and call string.
        job_ids = [f"{self.job_id_prefix}{kind}{number}" for number in ids]
        shared = self._job_template(function, retry)
        timestamp = utcformat(self.now().astimezone(UTC))
        shared_fields: list[str | bytes] = ["created_at", timestamp, "enqueued_at", timestamp, *shared]
        per_job: list[str | bytes] = []
        for number, job_id in zip(ids, job_ids, strict=True):
            per_job += (
                job_id,
                zlib.compress(JSONSerializer.dumps((function, None, [number], {}))),  # type: ignore[no-untyped-call]
                get_call_string(function, (number,), {}, max_length=75) or "",
            )
        existing: list[bytes] = self._create_and_queue(
            keys=[self.queue.key, self.queue.redis_queues_keys, *map(Job.key_for, job_ids)],
            args=[len(shared_fields), *shared_fields, *per_job],
        )
        by_job_id = dict(zip(job_ids, ids, strict=True))
        for found in existing:
            number = by_job_id[found.decode()]
            self._enqueue(function, number, job_id=f"{kind}{number}", retry=retry)

    def _job_template(self, function: str, retry: Retry) -> list[bytes]:
        """The hash fields rq writes for every job of `function` on this queue, all but the ones
        that name the job's item or the time: made once by rq itself (`Queue.create_job` and what
        `Queue.enqueue_job` sets before saving), so they are exactly what rq writes."""
        key = (function, id(retry))
        template = self._templates.get(key)
        if template is None:
            job = self.queue.create_job(
                function,
                args=[0],
                job_id="template",
                retry=retry,
                failure_ttl=30 * 86400,
                status=JobStatus.QUEUED,
            )
            self.queue._prepare_for_queue(job)
            assert job.ttl is None  # the script sets no expiry
            # Field, value, field, value...: encoded once, by redis-py's encoder, rather than every time.
            encode = self.connection.get_encoder().encode
            template = []
            for field, value in job.to_dict().items():
                if value is not None and field not in _PER_JOB_FIELDS:
                    template += (encode(field), encode(value))  # type: ignore[no-untyped-call]
            self._templates[key] = template
        return template

    def enqueue_acknowledgement(self, acknowledgement_id: int, *, session: Session | None = None) -> None:
        after_commit(
            session,
            lambda: self._enqueue(
                SEND_ACKNOWLEDGEMENT,
                acknowledgement_id,
                job_id=f"acknowledge-{acknowledgement_id}",
                retry=SEND_RETRY,
                queue=self.acknowledgements,
            ),
        )

    def enqueue_named(self, function: str, *args: Any, job_id: str, timeout: int | None = None) -> None:
        # `timeout`: seconds before rq kills the job (None: rq's default, 180 s), e.g. for a retrain.
        self._enqueue(function, *args, job_id=job_id, retry=PROCESS_RETRY, timeout=timeout)

    def _enqueue(
        self,
        function: str,
        *args: Any,
        job_id: str,
        retry: Retry,
        timeout: int | None = None,
        queue: Queue | None = None,
    ) -> None:
        queue = queue or self.queue
        job_id = self.job_id_prefix + job_id
        try:
            queue.enqueue_call(
                function,
                args=args,
                job_id=job_id,
                retry=retry,
                unique=True,
                failure_ttl=30 * 86400,
                timeout=timeout,
            )
        except DuplicateJobError:
            # Queued or running already: nothing to do. Finished or failed: the sweep asks again.
            try:
                existing = Job.fetch(job_id, connection=self.connection, serializer=JSONSerializer)
            except NoSuchJobError:
                existing = None
            status = existing.get_status(refresh=True) if existing is not None else None
            if existing is not None and status == JobStatus.SCHEDULED:
                # Due by our own records (the sweep asks only for what is due) but parked in rq's
                # scheduled registry, whose scheduler may be dead: a SIGKILLed worker holds the
                # scheduler lock until it expires. Run it now; the job itself is idempotent.
                self.queue.scheduled_job_registry.remove(existing)
                self.queue.enqueue_job(existing)
                return
            if (
                existing is not None
                and status == JobStatus.STARTED
                and not self._worker_alive(existing.worker_name)
            ):
                # Its worker died mid-job (SIGKILL, OOM): rq would notice only when the execution's
                # TTL runs out, minutes later. The sweep asks only for what is overdue: run it again.
                log.warning("job %s was running on a worker that is gone: queued again", job_id)
                status = JobStatus.FAILED
            if existing is not None and status == JobStatus.QUEUED and not self._waiting_in(queue, job_id):
                # A worker on two queues takes a job with BLPOP, which removes it from the queue
                # before marking it started; SIGKILLed in between, it leaves a job `queued` in no
                # queue, which nothing would ever run. Put it back (the job is idempotent).
                log.warning("job %s was taken by a worker that died before starting it: queued again", job_id)
                queue.enqueue_job(existing)
                return
            if existing is not None and status not in FINISHED_STATES:
                return
            if existing is not None:
                existing.delete()
            # Another process may re-queue it between our two calls: then theirs stands.
            with contextlib.suppress(DuplicateJobError):
                queue.enqueue_call(
                    function,
                    args=args,
                    job_id=job_id,
                    retry=retry,
                    unique=True,
                    failure_ttl=30 * 86400,
                    timeout=timeout,
                )

    def _waiting_in(self, queue: Queue, job_id: str) -> bool:
        return self.connection.lpos(queue.key, job_id) is not None

    def _worker_alive(self, name: str | None) -> bool:
        """Whether the rq worker `name` may still be running its job.

        Its key alone is no sign of life: rq sets its TTL when a job starts (a `SimpleWorker`: the
        job's timeout + 60 s, 240 s by default; idle: 480 s), so a SIGKILLed worker's key outlives it
        by minutes, and the sweep's re-queue used to wait that long (the short fault campaign waited
        ~8 minutes on one item). A worker of this host is judged by its process instead, at once; one
        of another host by its key, which is all there is to go on.
        """
        if not name:
            return False
        key = Worker.redis_worker_namespace_prefix + name
        hostname, pid, death = (
            value.decode() if isinstance(value, bytes) else value
            for value in self.connection.hmget(key, ["hostname", "pid", "death"])
        )
        if hostname is None or death is not None:  # expired, or it said it was stopping
            return False
        if hostname == socket.gethostname() and pid is not None and pid.isdigit():
            return process_alive(int(pid))
        return True

    def failed_jobs(self) -> list[dict[str, Any]]:
        job_ids = [job_id for queue in self.queues for job_id in queue.failed_job_registry.get_job_ids()]
        jobs = Job.fetch_many(job_ids, connection=self.connection, serializer=JSONSerializer)
        return [
            {
                "id": job.id,
                "function": job.func_name,
                "args": list(job.args),
                "error": (job.exc_info or "")[-2000:],
            }
            for job in jobs
            if job is not None
        ]

    def ping(self) -> bool:
        return bool(self.connection.ping())


def import_function(path: str) -> Callable[..., Any]:
    """The job function at a dotted path (e.g. intake.jobs.process_item)."""
    return _import_function(path)


def _import_function(path: str) -> Callable[..., Any]:
    module_name, _, attribute = path.rpartition(".")
    module = __import__(module_name, fromlist=[attribute])
    return getattr(module, attribute)  # type: ignore[no-any-return]
