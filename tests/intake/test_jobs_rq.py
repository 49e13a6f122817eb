"""Real rq workers on real Redis and PostgreSQL: several processes, retries, a killed work horse.

Each test has its own cloned database and its own queue name (which namespaces the job ids), so
nothing here flushes Redis or touches another run's jobs. Every worker a test starts is killed with
its whole process group when the test ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import Engine, create_engine, func, select, text

from intake.batches import gather
from intake.clock import FixedClock
from intake.pipeline import ingest, ingest_group
from intake.queueing import PROCESS_ITEM, PROCESS_RETRY, RqJobQueue
from intake.runtime import Runtime, use_runtime
from models import Acknowledgement, AuditEntry, ClassificationRun, Item
from tests.conftest import make_settings
from tests.factories import email_message
from tests.intake.worker_checks import assert_each_item_done_once

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(900)]

# Ceilings, not expectations: each wait ends as soon as its condition holds.
WORKER_RUN_CEILING = 600.0
CONDITION_CEILING = 240.0


@pytest.fixture
def rq_runtime(tmp_path: Path, postgres_url: str, redis_url: str, trained_model_dir: Path, queue_name: str):  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path, postgres_url, redis_url=redis_url, model_dir=trained_model_dir, queue_name=queue_name
    )
    runtime = Runtime.build(settings)
    with use_runtime(runtime):
        yield runtime
    runtime.database.dispose()
    assert isinstance(runtime.jobs, RqJobQueue)
    connection = runtime.jobs.connection
    runtime.jobs.queue.delete(delete_jobs=True)
    for key in connection.scan_iter(f"rq:*{queue_name}*"):
        connection.delete(key)


@pytest.fixture
def start_worker(rq_runtime: Runtime) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts `intake worker` processes, each in a process group of its own, all killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, **environment: str) -> subprocess.Popen[bytes]:
        worker = subprocess.Popen(
            [sys.executable, "-m", "intake", "worker", "--sweep-every", "0", *args],
            env={**_worker_env(rq_runtime), **environment},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)  # the worker, its scheduler and any work horse
        worker.wait(timeout=60)


def _worker_env(runtime: Runtime) -> dict[str, str]:
    settings = runtime.settings
    return {
        **os.environ,
        "INTAKE_ENVIRONMENT": "test",
        "INTAKE_DATABASE_URL": settings.database_url,
        "INTAKE_REDIS_URL": settings.redis_url or "",
        "INTAKE_QUEUE_NAME": settings.queue_name,
        "INTAKE_MODEL_DIR": str(settings.model_dir),
        "INTAKE_OUTBOX_DIR": str(settings.outbox_dir),
    }


def _wait_for(condition: Callable[[], object], what: str, timeout: float = CONDITION_CEILING) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _processed(runtime: Runtime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(Item).where(Item.status == "processed")) or 0


def _acknowledgement_statuses(runtime: Runtime) -> list[str]:
    with runtime.database.session() as session:
        return list(session.scalars(select(Acknowledgement.status)))


def test_two_workers_process_every_item_once_with_one_acknowledgement_each(
    rq_runtime: Runtime, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    for number in range(20):
        # A different sender each: one sender would hit the 10-a-day acknowledgement limit.
        ingest(
            rq_runtime,
            email_message(
                f"Please can you send me form number {number} for a parking permit.",
                sender=f"resident{number}@example.com",
            ),
        )
    workers = [start_worker("--burst") for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=WORKER_RUN_CEILING) == 0
    assert _processed(rq_runtime) == 20
    assert sorted(_acknowledgement_statuses(rq_runtime)) == ["sent"] * 20
    assert len(list((rq_runtime.settings.outbox_dir / "email").iterdir())) == 20
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    assert rq_runtime.jobs.failed_jobs() == []


def test_workers_take_items_along_in_batches_and_still_process_each_exactly_once(
    rq_runtime: Runtime, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    """Three worker processes race for 60 queued items, each job taking the next ones along."""
    for number in range(60):
        ingest(
            rq_runtime,
            email_message(f"The light on landing {number} has been out for a week.", sender=f"l{number}@example.com"),
        )
    workers = [start_worker("--burst", "--processes", "2"), start_worker("--burst")]
    for worker in workers:
        assert worker.wait(timeout=WORKER_RUN_CEILING) == 0
    with rq_runtime.database.session() as session:
        runs = session.execute(
            select(ClassificationRun.item_id, func.count()).group_by(ClassificationRun.item_id)
        ).all()
        processed = session.execute(
            select(AuditEntry.item_id, func.count()).where(AuditEntry.action == "processed").group_by(AuditEntry.item_id)
        ).all()
        sent = session.scalars(select(Acknowledgement.status)).all()
    assert len(runs) == 60 and {count for _, count in runs} == {1}  # classified once each
    assert len(processed) == 60 and {count for _, count in processed} == {1}  # processed once each
    assert sorted(sent) == ["sent"] * 60
    assert len(list((rq_runtime.settings.outbox_dir / "email").iterdir())) == 60  # sent once each
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    assert rq_runtime.jobs.failed_jobs() == []
    # Batches did happen: fewer jobs ran than items were processed (the rest were taken along).
    ran = rq_runtime.jobs.queue.finished_job_registry.count
    assert ran < 60, ran
    assert rq_runtime.jobs.queue.count == 0 and rq_runtime.jobs.acknowledgements.count == 0


def test_a_worker_past_its_memory_limit_makes_way_between_jobs_and_every_item_is_processed_once(
    rq_runtime: Runtime, tmp_path: Path
) -> None:
    for number in range(40):  # more than one job takes along (BATCH_SIZE, 32)
        ingest(
            rq_runtime,
            email_message(f"The entry phone at number {number} buzzes all night.", sender=f"e{number}@example.com"),
        )
    log_path = tmp_path / "worker.log"
    # 1 MB: every worker process is past it after its first job, so each job gets a fresh process.
    environment = {**_worker_env(rq_runtime), "INTAKE_WORKER_MAX_RESIDENT_MB": "1"}
    with log_path.open("wb") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "intake", "worker", "--sweep-every", "0", "--burst"],
            env=environment, stdout=log_file, stderr=log_file, start_new_session=True,
        )
        try:
            assert worker.wait(timeout=WORKER_RUN_CEILING) == 0
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=60)
    log = log_path.read_text()
    assert log.count("making way for a fresh one") >= 2, log[-3000:]
    assert "handing back its job" not in log  # it left between jobs, holding none
    assert_each_item_done_once(rq_runtime, 40)
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    assert rq_runtime.jobs.failed_jobs() == []


def test_a_job_waits_a_moment_for_the_items_arriving_behind_it_and_takes_them_in_its_batch(
    rq_runtime: Runtime, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    """At a steady rate, texts arrive one by one: without the wait, two workers took them two or
    three at a time and each item cost twice the CPU it does in a full batch (issue 14)."""
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    queue = rq_runtime.jobs.queue
    start_worker(INTAKE_WORKER_GATHER_SECONDS="5")
    _wait_for(
        lambda: any(queue.name in worker.queue_names() for worker in Worker.all(connection=queue.connection)),
        "the worker is listening",
    )
    ingest(rq_runtime, email_message("The bath tap drips all night.", sender="first@example.com"))
    _wait_for(lambda: queue.count == 0, "the worker took the first item's job")
    # Well after the job looked behind it (its first step), well within the 5 s it waits for more.
    time.sleep(1.0)
    ingest(rq_runtime, email_message("Our street light is out again.", sender="second@example.com"))
    # rq records a job finished (and no longer started) a moment after its work is committed.
    _wait_for(
        lambda: _processed(rq_runtime) == 2
        and queue.finished_job_registry.count >= 1
        and queue.started_job_registry.count == 0
        and queue.count == 0,
        "both items processed and the worker idle",
    )
    # One job ran; the second item went in its batch and its own job was taken off the queue.
    assert queue.finished_job_registry.count == 1
    assert queue.count == 0
    assert rq_runtime.jobs.failed_jobs() == []


def test_outside_a_worker_nothing_is_taken_along_and_nothing_waits(rq_runtime: Runtime) -> None:
    def never(seconds: float) -> None:
        raise AssertionError(f"waited {seconds} s outside a worker")

    ingest(rq_runtime, email_message("Please call me about my rent.", sender="rent@example.com"))
    assert gather(rq_runtime, 1, wait=never) == []


def test_a_job_is_never_queued_twice(rq_runtime: Runtime) -> None:
    result = ingest(rq_runtime, email_message("What are the office opening hours over Christmas?"))
    rq_runtime.jobs.enqueue_process_item(result.item_id)
    rq_runtime.jobs.enqueue_process_item(result.item_id)
    queue = Queue(
        rq_runtime.settings.queue_name,
        connection=Redis.from_url(rq_runtime.settings.redis_url),
        serializer=JSONSerializer,
    )
    assert queue.job_ids == [f"{rq_runtime.settings.queue_name}-process-{result.item_id}"]


def test_an_item_whose_worker_dies_mid_job_is_processed_once_its_job_runs_again(
    rq_runtime: Runtime, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    result = ingest(
        rq_runtime,
        email_message("The lift in Cedar House has been broken for two weeks and nobody has fixed it."),
    )
    job_id = f"{rq_runtime.settings.queue_name}-process-{result.item_id}"
    # Hold the item's row, so the job blocks inside process_item's transaction; then SIGKILL the
    # process running it — found through PostgreSQL (the backend waiting on our lock) and the
    # socket it belongs to, so this holds whether rq forks a work horse, runs jobs in the worker,
    # or starts a scheduler child first.
    engine = create_engine(rq_runtime.settings.database_url, isolation_level="READ COMMITTED")
    try:
        with engine.connect() as blocker:
            transaction = blocker.begin()
            blocker.execute(text("SELECT id FROM items WHERE id = :id FOR UPDATE"), {"id": result.item_id})
            worker = start_worker()
            holder = blocker.execute(text("SELECT pg_backend_pid()")).scalar_one()
            running_job = _wait_for_process_waiting_on(engine, holder, worker.pid)
            os.kill(running_job, signal.SIGKILL)
            _wait_for(lambda: not _alive(running_job), "the killed process is gone")
            transaction.rollback()
        if worker.poll() is not None:  # the job ran in the worker itself: start another
            start_worker()
        _wait_for(lambda: _processed(rq_runtime) == 1, "the item is processed by the job's retry")
        _wait_for(lambda: _acknowledgement_statuses(rq_runtime) == ["sent"], "the acknowledgement is sent")
    finally:
        engine.dispose()
    job = Job.fetch(job_id, connection=Redis.from_url(rq_runtime.settings.redis_url), serializer=JSONSerializer)
    assert job.retries_left is not None and job.retries_left < PROCESS_RETRY.max, "the retry never ran"
    assert len(list((rq_runtime.settings.outbox_dir / "email").iterdir())) == 1
    with rq_runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 1


def _wait_for_process_waiting_on(engine: Engine, holder: int, worker_pid: int) -> int:
    """The pid of the worker's process (itself or a descendant) whose query waits on `holder`'s lock."""
    found: list[int] = []

    def look() -> bool:
        with engine.connect() as connection:  # a fresh transaction: pg_stat_activity is a snapshot
            ports = connection.execute(
                text(
                    "SELECT client_port FROM pg_stat_activity"
                    " WHERE :holder = ANY(pg_blocking_pids(pid)) AND client_port IS NOT NULL"
                ),
                {"holder": holder},
            ).scalars().all()
        for port in ports:
            pid = _process_with_local_port(int(port), [worker_pid, *_descendants(worker_pid)])
            if pid is not None:
                found.append(pid)
                return True
        return False

    _wait_for(look, "a process of the worker waits on the row lock")
    return found[0]


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _process_with_local_port(port: int, pids: list[int]) -> int | None:
    """Which of `pids` owns the TCP socket whose local port is `port` (/proc/net/tcp + its fds)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return pid
    return None


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has died; its parent has yet to reap it


def test_a_due_job_parked_in_rqs_scheduled_registry_runs_when_the_sweep_asks_again(rq_runtime: Runtime) -> None:
    # A failed send's rq retry waits in the scheduled registry for rq's scheduler; when the worker
    # holding the scheduler lock was SIGKILLed, nothing moves it until the lock expires. The sweep
    # asks again only for what is due by the database's own records: then the job runs now.
    from datetime import timedelta

    from intake.queueing import SEND_ACKNOWLEDGEMENT

    assert isinstance(rq_runtime.jobs, RqJobQueue)
    queue = rq_runtime.jobs.queue
    job_id = f"{rq_runtime.settings.queue_name}-acknowledge-41"
    queue.enqueue_in(timedelta(hours=1), SEND_ACKNOWLEDGEMENT, 41, job_id=job_id)
    assert queue.scheduled_job_registry.get_job_ids() == [job_id]

    rq_runtime.jobs.enqueue_acknowledgement(41)

    assert queue.scheduled_job_registry.get_job_ids() == []
    assert queue.job_ids == [job_id]
    rq_runtime.jobs.enqueue_acknowledgement(41)  # asked again while queued: still one job
    assert queue.job_ids == [job_id]


def test_a_job_left_started_by_a_dead_worker_runs_again_when_the_sweep_asks(rq_runtime: Runtime) -> None:
    # A SIGKILLed worker leaves its job `started` until rq's execution TTL runs out (minutes); the
    # sweep asks again only for an item overdue by the database's records, and its worker's key
    # (refreshed every 30 s while it lives) is gone: then the job is queued again at once.
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    queue = rq_runtime.jobs.queue
    connection = rq_runtime.jobs.connection
    alive = Worker([queue], connection=connection, serializer=JSONSerializer, name=f"{queue.name}-alive")
    alive.register_birth()
    try:
        for item_id, worker_name in ((51, f"{queue.name}-gone"), (52, alive.name)):
            rq_runtime.jobs.enqueue_process_item(item_id)
            job = Job.fetch(f"{queue.name}-process-{item_id}", connection=connection, serializer=JSONSerializer)
            queue.remove(job.id)
            with connection.pipeline() as pipeline:
                job.prepare_for_execution(worker_name, pipeline=pipeline)
                pipeline.execute()
            assert job.get_status(refresh=True) == "started"

        rq_runtime.jobs.enqueue_process_item(51)
        rq_runtime.jobs.enqueue_process_item(52)

        assert queue.job_ids == [f"{queue.name}-process-51"]  # the dead worker's job, not the live one's
    finally:
        alive.register_death()


def test_a_job_of_a_sigkilled_worker_whose_key_lives_on_runs_again_as_soon_as_the_sweep_asks(
    rq_runtime: Runtime, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    # The fault campaign's "kill a worker": SIGKILL to the whole `intake worker` process group while
    # a job runs, so no supervisor hands the job back. rq keeps the dead worker's key for the job's
    # timeout + 60 s (240 s), and the sweep's re-queue used to read that key as a live worker and do
    # nothing for minutes. A worker of this host is judged by its process: the re-queue is at once.
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    from rq import Worker

    result = ingest(rq_runtime, email_message("The boiler in flat 12 makes a banging noise every morning."))
    queue = rq_runtime.jobs.queue
    job_id = f"{queue.name}-process-{result.item_id}"
    connection = rq_runtime.jobs.connection
    engine = create_engine(rq_runtime.settings.database_url, isolation_level="READ COMMITTED")
    try:
        with engine.connect() as blocker:
            transaction = blocker.begin()  # hold the item's row: the job blocks mid-run
            blocker.execute(text("SELECT id FROM items WHERE id = :id FOR UPDATE"), {"id": result.item_id})
            worker = start_worker()
            holder = blocker.execute(text("SELECT pg_backend_pid()")).scalar_one()
            running_job = _wait_for_process_waiting_on(engine, holder, worker.pid)
            os.killpg(worker.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            worker.wait(timeout=60)
            _wait_for(lambda: not _alive(running_job), "the killed worker process is gone")
            transaction.rollback()
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
        assert job.get_status(refresh=True) == "started"
        assert job.worker_name is not None
        assert connection.ttl(Worker.redis_worker_namespace_prefix + job.worker_name) > 60, "its key lives on"

        rq_runtime.jobs.enqueue_process_item(result.item_id)  # what the sweep does for an overdue item

        assert queue.job_ids == [job_id]
        start_worker()
        _wait_for(lambda: _processed(rq_runtime) == 1, "the item is processed by the job queued again")
        print(f"processed {time.monotonic() - killed_at:.1f} s after the kill")  # for docs/reliability.md
        _wait_for(lambda: _acknowledgement_statuses(rq_runtime) == ["sent"], "the acknowledgement is sent")
    finally:
        engine.dispose()
    assert len(list((rq_runtime.settings.outbox_dir / "email").iterdir())) == 1


def test_a_job_taken_off_the_queue_by_a_worker_that_died_runs_again_when_the_sweep_asks(
    rq_runtime: Runtime,
) -> None:
    # A worker listening on two queues (acknowledgements first, then items) takes a job with BLPOP,
    # which removes its id from the queue before the job is marked `started`. A worker SIGKILLed in
    # between leaves a job that says `queued` but is in no queue: nothing would ever run it (found by
    # the fault campaign: an item `received` for good after "kill the email poller").
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    queue = rq_runtime.jobs.queue
    connection = rq_runtime.jobs.connection
    rq_runtime.jobs.enqueue_process_item(61)
    job_id = f"{queue.name}-process-61"
    assert connection.blpop([rq_runtime.jobs.acknowledgements.key, queue.key], timeout=1) is not None
    assert queue.job_ids == []
    assert Job.fetch(job_id, connection=connection, serializer=JSONSerializer).get_status() == "queued"

    rq_runtime.jobs.enqueue_process_item(61)  # what the sweep does for an overdue item

    assert queue.job_ids == [job_id]
    rq_runtime.jobs.enqueue_process_item(61)  # asked again while it waits in the queue: still one job
    assert queue.job_ids == [job_id]


def test_a_groups_jobs_are_queued_together_once_each_and_a_job_queued_before_is_not_doubled(
    rq_runtime: Runtime,
) -> None:
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    queue = rq_runtime.jobs.queue
    rq_runtime.jobs.enqueue_process_item(72)  # asked for before (the sweep), still waiting

    rq_runtime.jobs.enqueue_process_items([71, 72, 73])

    assert sorted(queue.job_ids) == [f"{queue.name}-process-{n}" for n in (71, 72, 73)]
    job = Job.fetch(f"{queue.name}-process-71", connection=rq_runtime.jobs.connection, serializer=JSONSerializer)
    assert job.func_name == "intake.jobs.process_item" and job.args == [71]
    assert job.retries_left == PROCESS_RETRY.max  # a dead worker's job is run again only with retries left


def test_a_groups_jobs_are_written_exactly_as_rqs_enqueue_many_writes_them(rq_runtime: Runtime) -> None:
    """The group's one-script enqueue writes each job's hash field for field as rq would (but the
    times, and the queue it names): the same jobs for rq's workers, made with less Python."""
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    connection = rq_runtime.jobs.connection
    ours = rq_runtime.jobs.queue
    theirs = Queue(ours.name + "-by-rq", connection=connection, serializer=JSONSerializer)
    numbers = [81, 82, 83]
    try:
        rq_runtime.jobs.enqueue_process_items(numbers)
        theirs.enqueue_many(
            [
                Queue.prepare_data(
                    PROCESS_ITEM,
                    args=[number],
                    job_id=f"{theirs.name}-process-{number}",
                    retry=PROCESS_RETRY,
                    failure_ttl=30 * 86400,
                )
                for number in numbers
            ]
        )
        per_job = {b"created_at", b"enqueued_at", b"origin"}
        for number in numbers:
            our_hash = connection.hgetall(f"rq:job:{ours.name}-process-{number}")
            their_hash = connection.hgetall(f"rq:job:{theirs.name}-process-{number}")
            assert {k: v for k, v in our_hash.items() if k not in per_job} == {
                k: v for k, v in their_hash.items() if k not in per_job
            }
            assert our_hash[b"origin"] == ours.name.encode()
            assert set(our_hash) == set(their_hash)
            assert connection.ttl(f"rq:job:{ours.name}-process-{number}") == -1  # no expiry, as rq's
        assert ours.job_ids == [f"{ours.name}-process-{number}" for number in numbers]
        assert ours.key.encode() in connection.smembers(Queue.redis_queues_keys)
    finally:
        theirs.delete(delete_jobs=True)


def test_a_groups_jobs_decide_a_finished_job_by_its_state_and_leave_a_queued_one_alone(
    rq_runtime: Runtime,
) -> None:
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    queue = rq_runtime.jobs.queue
    rq_runtime.jobs.enqueue_process_items([91, 92])
    finished = Job.fetch(
        f"{queue.name}-process-91", connection=rq_runtime.jobs.connection, serializer=JSONSerializer
    )
    queue.remove(finished)
    finished.set_status(JobStatus.FINISHED)  # ran before; its item asked for again (the sweep, a retry)

    rq_runtime.jobs.enqueue_process_items([91, 92, 93, 93])  # 92 still waits; 93 twice in one group

    assert sorted(queue.job_ids) == [f"{queue.name}-process-{n}" for n in (91, 92, 93)]
    again = Job.fetch(
        f"{queue.name}-process-91", connection=rq_runtime.jobs.connection, serializer=JSONSerializer
    )
    assert again.get_status() == JobStatus.QUEUED


def test_a_groups_jobs_are_stamped_by_the_clock_the_queue_is_given(redis_url: str) -> None:
    stamped = datetime(2026, 12, 24, 9, 30, tzinfo=UTC)
    jobs = RqJobQueue(redis_url, f"intake-test-{uuid.uuid4().hex[:8]}", now=lambda: stamped)
    try:
        jobs.enqueue_process_items([7, 8])
        for number in (7, 8):
            job = Job.fetch(
                f"{jobs.queue.name}-process-{number}", connection=jobs.connection, serializer=JSONSerializer
            )
            assert job.created_at == job.enqueued_at == stamped
    finally:
        jobs.queue.delete(delete_jobs=True)


def test_the_runtime_gives_its_rq_queue_its_own_clock(rq_runtime: Runtime) -> None:
    """Job stamps are domain time, as the database queue's are: the clock the runtime holds now."""
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    stamped = datetime(2027, 3, 1, 14, 5, tzinfo=UTC)
    rq_runtime.clock = FixedClock(stamped)  # set after the queue was built
    rq_runtime.jobs.enqueue_process_items([41, 42])
    for number in (41, 42):
        job = Job.fetch(
            f"{rq_runtime.jobs.queue.name}-process-{number}", connection=rq_runtime.jobs.connection,
            serializer=JSONSerializer,
        )
        assert job.created_at == job.enqueued_at == stamped


def test_a_groups_jobs_queued_in_one_script_are_run_by_real_workers(
    rq_runtime: Runtime, start_worker: Callable[..., subprocess.Popen[bytes]]
) -> None:
    """Items stored as a group (one `enqueue_process_items`) are processed by `intake worker`."""
    results = ingest_group(
        rq_runtime,
        [
            (email_message(f"The bin store door {n} will not lock.", sender=f"bins{n}@example.com"), "system")
            for n in range(6)
        ],
    )
    assert isinstance(rq_runtime.jobs, RqJobQueue)
    assert sorted(rq_runtime.jobs.queue.job_ids) == sorted(
        f"{rq_runtime.jobs.queue.name}-process-{result.item_id}" for result in results
    )
    worker = start_worker("--burst")
    assert worker.wait(timeout=WORKER_RUN_CEILING) == 0
    assert _processed(rq_runtime) == 6
    assert sorted(_acknowledgement_statuses(rq_runtime)) == ["sent"] * 6
    assert rq_runtime.jobs.failed_jobs() == []
