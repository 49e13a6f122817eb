"""`intake worker`: a supervisor that forks its worker processes once and keeps them running.

Each worker process runs job after job in itself — rq's `SimpleWorker` with Redis, the database
queue's batch loop without — instead of forking a work horse per job as rq's default `Worker` does
(≈ 270 ms of CPU per job for a process holding the model). The supervisor loads the model before it
forks, so every worker shares one copy, and it stays single-threaded, so forking is safe.

A worker process that dies mid-job (killed, out of memory) is noticed by the supervisor at once: the
job it held is handed back to its queue — with rq, exactly as rq does for a dead work horse (retried
while it has retries left, else failed) — and another process is started. Every job is idempotent
(intake/pipeline.py), so the job that runs again processes the item once.

A worker process whose resident size has grown past `max_resident_mb` finishes its job and exits, and
the supervisor forks a fresh one at once: spaCy keeps every word it has ever seen (its vocabulary and
string store never shrink), so a process that reads weeks of residents' references, phone numbers and
names grows without end (about 3 MB per 1,000 such messages, docs/scaling.md). A fork of the
supervisor, which loaded everything once, loads nothing again.

The supervisor also runs the periodic sweep and, with rq, moves jobs whose retry time has come from
rq's scheduled registry to their queue (rq's scheduler, without the process of its own it would
fork, which a killed worker would leave behind).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from intake.acknowledgements import ReadyToSend, send_acknowledgements, send_planned
from intake.batches import BATCH_SIZE
from intake.database_queue import ClaimedJob, DatabaseJobQueue, worker_name
from intake.pipeline import process_items
from intake.process_memory import resident_mb
from intake.queueing import PROCESS_ITEM, SEND_ACKNOWLEDGEMENT, DatabaseQueue, RqJobQueue, import_function
from intake.runtime import Runtime

log = logging.getLogger(__name__)

# The supervisor's intervals (ticks, sweeps, the stop grace) are this process's own waits, never
# stored or compared with another process's times: time.monotonic(), which no clock change moves.
SUPERVISOR_TICK_SECONDS = 0.25  # how often the supervisor looks at its children and the clock
RESPAWN_PAUSE_SECONDS = 1.0  # a worker that keeps dying is not restarted in a hot loop
# A worker process that outgrows its limit sooner than this after it started is told about: the
# limit is below what a worker needs, and every batch would cost a fork.
OUTGROWN_EARLY_SECONDS = 60.0
# Asked to stop, a worker finishes its job first; one still busy after this is killed, and its job
# handed back (every job is idempotent), so stopping never hangs on a stuck job.
STOP_GRACE_SECONDS = 15.0
# A worker process exits with this code when it has grown past `max_resident_mb` between jobs: it
# holds no job, so the supervisor starts another at once, with nothing to hand back.
REPLACE_ME_EXIT_CODE = 3


@dataclass(frozen=True)
class WorkerOptions:
    processes: int = 1
    burst: bool = False  # run until the queues are empty, then exit
    batch_size: int = BATCH_SIZE
    poll_seconds: float = 0.2
    sweep_every: int = 60  # seconds; 0: never
    # The sweep's refresh of the reports' daily facts recomputes each changed day whole (about a second
    # for a day of 9,000 items), so it runs less often than the sweep; a report read refreshes first anyway.
    report_facts_every: int = 600  # seconds
    parent_pid: int | None = None  # stop when this process (e.g. `intake serve`) is gone
    niceness: int = 0  # added to the process's nice value before anything is loaded (INTAKE_WORKER_NICENESS)
    # A worker process whose resident size passes this (MB) is replaced between jobs; 0: never
    # (INTAKE_WORKER_MAX_RESIDENT_MB)
    max_resident_mb: int = 0


def run(runtime: Runtime, options: WorkerOptions) -> int:
    """Run worker processes for the runtime's queue until stopped (or, in burst mode, until idle)."""
    if isinstance(runtime.jobs, RqJobQueue):
        mode: _Mode = _RqMode(runtime, options)
    elif isinstance(runtime.jobs, DatabaseQueue):
        mode = _DatabaseMode(runtime, options)
    else:
        raise ValueError("jobs run inline in this configuration: there is nothing for a worker to do")
    lower_priority(options.niceness)
    preload(runtime)
    return _Supervisor(runtime, options, mode).run()


def lower_priority(niceness: int) -> None:
    """Make this process (and the worker processes it forks, which inherit it) yield the CPU to the
    API: a request waits on a core, a queued job only waits in the queue. Where nice values do not
    exist (not Unix) or cannot be changed, work goes on at the normal priority."""
    if niceness <= 0:
        return
    try:
        os.nice(niceness)
    except (AttributeError, OSError) as error:
        log.warning("could not lower the worker's CPU priority: %s", error)


def preload(runtime: Runtime) -> None:
    """Load, before forking, what every worker process needs, so they share one copy of it and start
    at once: the model (spaCy and the model's NumPy arrays), the landlord's policy, the bank holidays of
    the years deadlines fall in, and the modules a job imports. Then `gc.freeze()`: the collector
    leaves these objects alone, so it neither spends a worker's CPU walking them again and again
    (0.37 s of 5.1 s for 500 items in bench runs, 0.11 s frozen) nor touches their pages, which
    would copy them into every process."""
    try:
        runtime.classifier  # noqa: B018 - loading it before the fork is the point
    except Exception as error:  # no model yet: jobs send items to triage_review, as before
        log.error("model not loaded: %s", error)
    runtime.policy  # noqa: B018
    this_year = runtime.clock.now().year
    for year in range(this_year - 1, this_year + 3):
        runtime.calendar.bank_holiday(date(year, 1, 1))
    import intake.batches  # noqa: F401 - imported by each job otherwise
    import intake.jobs  # noqa: F401
    settle_garbage_collector()


# The young generation's threshold in a worker: Python's default, 700 new objects, made the collector
# run about 500 times for 4,400 messages classified in batches (spaCy's tokens, the ORM's rows), 3.4-3.9 %
# of the classifier's CPU; at 20,000 it did not run once in the same pass (docs/benchmarks.md,
# thirteenth session). Nearly everything a batch makes is freed by reference counting; what is left
# in cycles waits a little longer: about 30 MB more in a worker (bench_classifier's worker memory,
# 290 MB against a target of 350). The older generations keep Python's own thresholds.
WORKER_YOUNG_GC_THRESHOLD = 20_000


def settle_garbage_collector() -> None:
    """Once what every worker needs is loaded: `gc.freeze()`, so the collector leaves those objects
    alone, and a higher young-generation threshold (WORKER_YOUNG_GC_THRESHOLD)."""
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(WORKER_YOUNG_GC_THRESHOLD, middle, old)


def outgrown(name: str, max_resident_mb: int) -> bool:
    """Whether this worker process should make way for a fresh one (`max_resident_mb` 0: never)."""
    if max_resident_mb <= 0:
        return False
    size = resident_mb()
    if size <= max_resident_mb:
        return False
    log.info("worker process %s at %.0f MB, past %s MB: making way for a fresh one", name, size, max_resident_mb)
    return True


class _Mode:
    def child(self, name: str) -> int:
        raise NotImplementedError

    def recover(self, name: str) -> None:
        raise NotImplementedError

    def tick(self) -> None:
        """Called often by the supervisor (never in a worker process)."""


class _Child(NamedTuple):
    """A worker process the supervisor forked."""

    name: str
    started: float  # time.monotonic() when it was forked


class _Supervisor:
    def __init__(self, runtime: Runtime, options: WorkerOptions, mode: _Mode) -> None:
        self.runtime = runtime
        self.options = options
        self.mode = mode
        self.children: dict[int, _Child] = {}  # by pid
        self.stopping = False
        self.stop_deadline: float | None = None
        self.last_sweep = self.last_report_facts = time.monotonic()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            return self._supervise()
        finally:
            if self.children:  # the supervisor itself failed: take its workers with it
                self._stop(signal.SIGTERM, None)

    def _supervise(self) -> int:
        for _ in range(max(1, self.options.processes)):
            self._spawn()
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                self._tick()
                if self.stop_deadline is not None and time.monotonic() > self.stop_deadline:
                    self.stop_deadline = None
                    log.warning("worker processes still busy %.0f s after the stop: killing them", STOP_GRACE_SECONDS)
                    self._signal_children(signal.SIGKILL)
                time.sleep(SUPERVISOR_TICK_SECONDS)
                continue
            child = self.children.pop(pid, None)
            if child is None:
                continue
            name = child.name
            code = os.waitstatus_to_exitcode(status)
            lived = time.monotonic() - child.started
            if code == 0 and (self.options.burst or self.stopping):
                continue  # finished its work
            if code == REPLACE_ME_EXIT_CODE:
                # Between jobs, holding none: nothing to hand back and no reason to pause.
                limit = self.options.max_resident_mb
                if lived < OUTGROWN_EARLY_SECONDS:
                    log.warning("worker process %s passed %s MB after %.0f s: the limit "
                                "(INTAKE_WORKER_MAX_RESIDENT_MB) is too low for a worker; raise it", name, limit, lived)
                else:
                    log.info("worker process %s replaced after %.0f s", name, lived)
                if not self.stopping:
                    self._spawn()
                continue
            log.warning("worker process %s ended with %s; handing back its job", name, code)
            try:
                self.mode.recover(name)
            except Exception:  # left to the queue's own recovery (rq's registry clean-up, the sweep)
                log.exception("could not hand back the job of worker process %s", name)
            if self.stopping:
                continue
            time.sleep(RESPAWN_PAUSE_SECONDS)
            self._spawn()
        return 0

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the worker process
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                # The parent's pooled connections belong to the parent: open our own.
                self.runtime.database.engine.dispose(close=False)
                code = self.mode.child(worker_name())
            except BaseException:
                log.exception("worker process failed")
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = _Child(name=worker_name(pid), started=time.monotonic())

    def _stop(self, signum: int, _frame: Any) -> None:
        if not self.stopping:
            self.stop_deadline = time.monotonic() + STOP_GRACE_SECONDS
        self.stopping = True
        self._signal_children(signal.SIGTERM)

    def _signal_children(self, signum: int) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def _tick(self) -> None:
        if self.stopping:
            return
        if self.options.parent_pid is not None and os.getppid() != self.options.parent_pid:
            log.warning("the process that started these workers has gone: stopping")
            self._stop(signal.SIGTERM, None)
            return
        try:
            self.mode.tick()
            now = time.monotonic()
            due = sweep_due(self.options, since_sweep=now - self.last_sweep, since_facts=now - self.last_report_facts)
            if due.sweep and not self.options.burst:
                from intake.jobs import sweep

                self.last_sweep = now
                if due.report_facts:
                    self.last_report_facts = now
                sweep(report_facts=due.report_facts)
        except Exception:  # the supervisor must outlive a database or Redis hiccup
            log.exception("supervisor housekeeping failed; trying again")


class SweepDue(NamedTuple):
    sweep: bool
    report_facts: bool  # this sweep also brings the reports' daily facts up to date


def sweep_due(options: WorkerOptions, *, since_sweep: float, since_facts: float) -> SweepDue:
    """Whether the supervisor sweeps now, and whether that sweep refreshes the reports' facts.

    Recomputing a changed day's facts is the sweep's one heavy step (about a second of CPU for a day
    of 9,000 items, however few of them changed), so it runs every `report_facts_every` seconds, not
    every sweep. A report read refreshes whatever is left before it reads: no report is stale."""
    sweep = options.sweep_every > 0 and since_sweep >= options.sweep_every
    return SweepDue(sweep, sweep and since_facts >= options.report_facts_every)


# --- the database queue (no Redis) ----------------------------------------------------------------


class _DatabaseMode(_Mode):
    def __init__(self, runtime: Runtime, options: WorkerOptions) -> None:
        assert isinstance(runtime.jobs, DatabaseQueue)
        self.runtime = runtime
        self.options = options
        self.table: DatabaseJobQueue = runtime.jobs.table
        self.last_reclaim = 0.0
        self.table.reclaim_abandoned()  # jobs of a worker that died with its supervisor

    def child(self, name: str) -> int:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        return run_database_worker(
            self.runtime,
            name,
            batch_size=self.options.batch_size,
            poll_seconds=self.options.poll_seconds,
            burst=self.options.burst,
            stop=stop,
            max_resident_mb=self.options.max_resident_mb,
        )

    def recover(self, name: str) -> None:
        self.table.release_worker(name)

    def tick(self) -> None:
        if time.monotonic() - self.last_reclaim > 30:
            self.last_reclaim = time.monotonic()
            self.table.reclaim_abandoned()


# While webhooks are being stored, the worker beside `intake serve` steps back for this many times as
# long as its last batch took, at most STEP_BACK_MAX_SECONDS: it then has at most a third of the time,
# and the CPU goes to answering residents' webhooks (Twilio gives up after 15 s and does not send an
# inbound text again). Acknowledgements follow as the burst eases; an idle request path costs nothing.
# bench/bench_sms_webhook.py --mode sqlite, alternated with and without: docs/benchmarks.md, sixth session.
STEP_BACK_PER_BATCH_SECOND = 2.0
STEP_BACK_MAX_SECONDS = 1.0


def step_back_seconds(*, request_path_active: bool, batch_seconds: float) -> float:
    """How long the database-queue worker waits after a batch before it claims the next one."""
    if not request_path_active:
        return 0.0
    return min(STEP_BACK_MAX_SECONDS, STEP_BACK_PER_BATCH_SECOND * batch_seconds)


def run_database_worker(
    runtime: Runtime,
    name: str,
    *,
    batch_size: int,
    poll_seconds: float,
    burst: bool,
    stop: threading.Event,
    timer: Callable[[], float] = time.monotonic,
    max_resident_mb: int = 0,
) -> int:
    """Claim up to `batch_size` ready jobs, run them, repeat; between polls, wait `poll_seconds`.
    On SQLite, while webhooks are being stored, step back after each batch (`step_back_seconds`),
    for a time measured on `timer` (a batch's length, never compared with another process's).
    Returns REPLACE_ME_EXIT_CODE after a batch that left the process larger than `max_resident_mb`."""
    assert isinstance(runtime.jobs, DatabaseQueue)
    table = runtime.jobs.table
    while not stop.is_set():
        claimed = table.claim(name, limit=batch_size)
        if not claimed:
            if burst:
                return 0
            stop.wait(poll_seconds)
            continue
        started = timer()
        run_claimed(runtime, table, name, claimed)
        if outgrown(name, max_resident_mb):
            return REPLACE_ME_EXIT_CODE
        pause = step_back_seconds(
            request_path_active=runtime.database.request_path_active(), batch_seconds=timer() - started
        )
        if pause:
            stop.wait(pause)
    return 0


def run_claimed(runtime: Runtime, table: DatabaseJobQueue, name: str, claimed: list[ClaimedJob]) -> None:
    """Run a claimed batch: its items processed together (one `classify_many`, one transaction), its
    acknowledgements sent together; any other job on its own. A batch that fails is run job by job,
    so one bad item fails (and is retried) alone."""
    items = [job for job in claimed if job.function == PROCESS_ITEM and job.args]
    sends = [job for job in claimed if job.function == SEND_ACKNOWLEDGEMENT and job.args]
    others = [job for job in claimed if job not in items and job not in sends]
    succeeded: list[int] = []
    if len(items) > 1:
        committed = False

        def send_now(_taken: list[int], acknowledgements: list[int], ready: ReadyToSend) -> None:
            # The batch's letters go from here as built, not as jobs to claim, read back and delete:
            # three more write transactions a batch, each one on SQLite a webhook waits behind.
            nonlocal committed
            committed = True
            send_planned(runtime, acknowledgements, ready)

        try:
            process_items(
                runtime, [int(job.args[0]) for job in items], on_committed=send_now, queue_acknowledgements=False
            )
        except Exception:
            if committed:  # stored and processed; what failed was sending, whose rows say so
                log.warning("sending a batch's acknowledgements failed; the sweep queues them", exc_info=True)
                succeeded += [job.id for job in items]
            else:
                log.warning("a batch of %s items failed; running them one by one", len(items), exc_info=True)
                others += items
        else:
            succeeded += [job.id for job in items]
    else:
        others += items
    if sends:
        try:
            batch = send_acknowledgements(runtime, [int(job.args[0]) for job in sends])
        except Exception:
            log.warning("a batch of %s acknowledgements failed; one by one", len(sends), exc_info=True)
            others += sends
        else:
            for job in sends:
                error = batch.failed.get(int(job.args[0]))
                if error is None:
                    succeeded.append(job.id)
                else:
                    table.failed(job, name, f"{type(error).__name__}: {error}")
    with table.held():  # the jobs these jobs queue are written in one go
        for job in others:
            try:
                import_function(job.function)(*job.args)
            except Exception:
                log.exception("job %s failed (attempt %s of %s)", job.key, job.attempts, job.max_attempts)
                table.failed(job, name, traceback.format_exc())
            else:
                succeeded.append(job.id)
    table.finished(succeeded, name)


# --- rq (Redis) -----------------------------------------------------------------------------------


class _RqMode(_Mode):
    def __init__(self, runtime: Runtime, options: WorkerOptions) -> None:
        from rq.scheduler import RQScheduler
        from rq.serializers import JSONSerializer

        assert isinstance(runtime.jobs, RqJobQueue)
        self.runtime = runtime
        self.jobs = runtime.jobs
        self.options = options
        self.scheduler = RQScheduler(
            self.jobs.queues, connection=self.jobs.connection, serializer=JSONSerializer, logging_level="WARNING"
        )

    def child(self, name: str) -> int:
        from redis import Redis
        from rq import Queue
        from rq.serializers import JSONSerializer

        connection = Redis.from_url(self.runtime.settings.redis_url or "")
        queues = [Queue(q.name, connection=connection, serializer=JSONSerializer) for q in self.jobs.queues]
        worker = _simple_worker_class()(queues, connection=connection, serializer=JSONSerializer, name=name)
        worker.max_resident_mb = self.options.max_resident_mb
        worker.work(burst=self.options.burst, with_scheduler=False, logging_level="WARNING")
        return REPLACE_ME_EXIT_CODE if worker.make_way else 0

    def recover(self, name: str) -> None:
        recover_rq_worker(self.jobs, name)

    def tick(self) -> None:
        # Retries with a back-off wait in rq's scheduled registry until their time comes.
        # (rq's scheduler methods carry no type hints; the ignores say only that.)
        if self.scheduler.acquire_locks():  # type: ignore[no-untyped-call]
            self.scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]


# How often a worker's command listener wakes to see whether it should stop. rq polls every 60 s and
# redis-py 8 waits for the listener on stop, so a worker's exit (a burst run, a SIGTERM) could take a
# minute: seen as ~64 s start-ups in bench/bench_workers.py (py-spy: teardown -> unsubscribe ->
# PubSubWorkerThread.stop -> join).
PUBSUB_POLL_SECONDS = 1.0


def _simple_worker_class() -> type[Any]:
    """rq's SimpleWorker whose command listener wakes every second instead of every minute, and which
    leaves its loop after a job that left the process past its memory limit (`make_way`)."""
    from rq import SimpleWorker
    from rq.exceptions import StopRequested

    class IntakeSimpleWorker(SimpleWorker):
        max_resident_mb = 0
        make_way = False  # set when it leaves its loop to be replaced by a fresh process

        def execute_job(self, job: Any, queue: Any) -> None:
            super().execute_job(job, queue)
            if outgrown(self.name, self.max_resident_mb):
                # rq's own way out of its loop, taken between jobs: the job above has finished
                self.make_way = True
                raise StopRequested()

        def subscribe(self) -> None:
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]  # rq declares it None until subscribed
                sleep_time=PUBSUB_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
            )

    return IntakeSimpleWorker


def recover_rq_worker(jobs: RqJobQueue, name: str) -> list[str]:
    """What rq does for a dead work horse, for a dead SimpleWorker: its job is retried or failed."""
    from rq import Queue, SimpleWorker
    from rq.job import Job, JobStatus
    from rq.job_lifecycle import record_job_failure
    from rq.serializers import JSONSerializer

    worker = SimpleWorker.find_by_key(
        SimpleWorker.redis_worker_namespace_prefix + name, connection=jobs.connection, serializer=JSONSerializer
    )
    if worker is None:
        return []
    handed_back: list[str] = []
    for execution in worker.get_current_executions():
        try:
            job = Job.fetch(execution.job_id, connection=jobs.connection, serializer=JSONSerializer)
        except Exception:
            continue
        if job.get_status(refresh=True) != JobStatus.STARTED:
            continue
        queue = Queue(job.origin, connection=jobs.connection, serializer=JSONSerializer)
        with jobs.connection.pipeline() as pipeline:
            queue.started_job_registry.remove_execution(execution, pipeline=pipeline)
            if job.retries_left:
                # At once, not after the back-off: the job did not fail, its process was lost.
                job.retries_left -= 1
                queue._enqueue_job(job, pipeline=pipeline, at_front=True)
            else:
                record_job_failure(job, f"its worker {name} died while running it", pipeline)
            pipeline.execute()
        handed_back.append(job.id)
        log.warning("job %s of dead worker %s handed back", job.id, name)
    worker.register_death()  # type: ignore[no-untyped-call]  # untyped in rq
    return handed_back

