"""Processing off the request path: the database queue, `intake worker` and `intake serve`'s worker.

The request path stores and queues; it never classifies, renders or sends. The worker processes
the queue — batches of items classified together, acknowledgements first — and a worker process
killed mid-job costs only time: its job is handed back and the item processed once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, select, text

from intake.app import create_app
from intake.clock import FixedClock
from intake.database_queue import DatabaseJobQueue
from intake.pipeline import SQLITE_ITEMS_PER_TRANSACTION, ingest
from intake.queueing import PROCESS_ITEM, DatabaseQueue
from intake.runtime import Runtime, use_runtime
from intake.tokens import create_token
from intake.workers import SweepDue, WorkerOptions, run_claimed, sweep_due
from models import Acknowledgement, ClassificationRun, Item, QueuedJob
from tests.channels.mail_servers import free_port
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import new_mobile, twilio_settings
from tests.conftest import make_settings
from tests.factories import email_message, sms_message
from tests.intake.worker_checks import assert_each_item_done_once

pytestmark = pytest.mark.timeout(600)



def _count(runtime: Runtime, what: object, *where: object) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(what).where(*where)) or 0  # type: ignore[arg-type]


def _queued_keys(runtime: Runtime) -> list[str]:
    with runtime.database.session() as session:
        return list(session.scalars(select(QueuedJob.key).order_by(QueuedJob.id)))


def _wait_for(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


# --- the request path -------------------------------------------------------------------------------


def test_an_api_post_stores_and_queues_but_neither_classifies_nor_sends(queued_runtime: Runtime) -> None:
    with queued_runtime.database.session() as session:
        token = create_token(session, "housing-system")
    with TestClient(create_app(queued_runtime)) as client:
        response = client.post(
            "/api/v1/items",
            json={
                "channel": "email",
                "external_id": "m-1",
                "body": "There is water coming through my ceiling from the flat above.",
                "sender": "resident@example.com",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["status"], answer["reference"]) == ("received", None)
    item_id = answer["id"]
    assert _queued_keys(queued_runtime) == [f"process-{item_id}"]
    assert _count(queued_runtime, ClassificationRun) == 0
    assert _count(queued_runtime, Acknowledgement) == 0
    assert not (queued_runtime.settings.outbox_dir).exists()
    with queued_runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and (item.status, item.type, item.queue) == ("received", None, None)


def test_a_repeated_delivery_makes_no_second_item_and_no_second_job(queued_runtime: Runtime) -> None:
    message = sms_message("My boiler is broken again and I have no hot water", external_id="SM" + "1" * 32)
    first = ingest(queued_runtime, message)
    again = ingest(queued_runtime, message)
    assert (first.created, again.created, again.item_id) == (True, False, first.item_id)
    assert _count(queued_runtime, Item) == 1
    assert _queued_keys(queued_runtime) == [f"process-{first.item_id}"]


def test_a_job_is_queued_only_when_its_transaction_commits(queued_runtime: Runtime) -> None:
    with pytest.raises(RuntimeError), queued_runtime.database.session() as session:
        queued_runtime.jobs.enqueue_process_item(12345, session=session)
        raise RuntimeError("the request failed after queueing")
    assert _queued_keys(queued_runtime) == []


# --- the database queue -------------------------------------------------------------------------------


def test_acknowledgements_are_claimed_before_items_and_never_in_the_same_batch(queued_runtime: Runtime) -> None:
    assert isinstance(queued_runtime.jobs, DatabaseQueue)
    table: DatabaseJobQueue = queued_runtime.jobs.table
    for item_id in (1, 2, 3):
        queued_runtime.jobs.enqueue_process_item(item_id)
    queued_runtime.jobs.enqueue_acknowledgement(7)
    first = table.claim("host.1", limit=10)
    assert [job.key for job in first] == ["acknowledge-7"]
    second = table.claim("host.1", limit=2)
    assert [job.key for job in second] == ["process-1", "process-2"]
    assert [job.key for job in table.claim("host.2", limit=10)] == ["process-3"]
    assert table.claim("host.3", limit=10) == []


def test_a_failed_job_waits_its_back_off_and_a_dead_workers_jobs_are_handed_back(queued_runtime: Runtime) -> None:
    assert isinstance(queued_runtime.jobs, DatabaseQueue)
    table = queued_runtime.jobs.table
    queued_runtime.jobs.enqueue_process_item(1)
    queued_runtime.jobs.enqueue_process_item(2)
    one, two = table.claim("host.1", limit=2)
    table.failed(one, "host.1", "boom")
    assert table.claim("host.2", limit=10) == []  # process-1 waits its back-off; process-2 is held
    assert table.release_worker("host.1") == 1  # host.1 died holding process-2
    [again] = table.claim("host.2", limit=10)
    assert (again.key, again.attempts) == ("process-2", 2)
    table.finished([again.id], "host.2")
    assert _queued_keys(queued_runtime) == ["process-1"]


def test_the_queue_keeps_the_runtimes_time_for_back_offs_and_overdue_holders(queued_runtime: Runtime) -> None:
    assert isinstance(queued_runtime.jobs, DatabaseQueue)
    table = queued_runtime.jobs.table
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    clock = FixedClock(start)
    queued_runtime.clock = clock  # set after the runtime was built: the queue still reads it
    queued_runtime.jobs.enqueue_process_item(1)
    [job] = table.claim("elsewhere.1", limit=1)
    table.failed(job, "elsewhere.1", "boom")
    clock.move_to(start + timedelta(seconds=4))
    assert table.claim("elsewhere.2", limit=1) == []  # the first back-off is 5 s of the runtime's time
    clock.move_to(start + timedelta(seconds=5))
    [again] = table.claim("elsewhere.2", limit=1)  # a holder on another host: only its timeout frees it
    clock.move_to(start + timedelta(seconds=5 + 599))
    assert table.reclaim_abandoned() == 0
    clock.move_to(start + timedelta(seconds=5 + 601))
    assert table.reclaim_abandoned() == 1
    assert [job.key for job in table.claim("host.3", limit=1)] == [again.key]


def test_queueing_a_job_that_failed_for_good_queues_it_again(queued_runtime: Runtime) -> None:
    assert isinstance(queued_runtime.jobs, DatabaseQueue)
    table = queued_runtime.jobs.table
    table.enqueue(PROCESS_ITEM, 5, job_id="process-5", max_attempts=1)
    [job] = table.claim("host.1", limit=1)
    table.failed(job, "host.1", "gave up")
    assert [entry["id"] for entry in table.failed_jobs()] == ["process-5"]
    queued_runtime.jobs.enqueue_process_item(5)
    queued_runtime.jobs.enqueue_process_item(5)
    assert table.failed_jobs() == []
    assert table.counts() == {"queued": 1}


def test_jobs_queued_while_held_are_written_together_when_the_block_ends(queued_runtime: Runtime) -> None:
    assert isinstance(queued_runtime.jobs, DatabaseQueue)
    with queued_runtime.jobs.table.held():
        queued_runtime.jobs.enqueue_acknowledgement(1)
        queued_runtime.jobs.enqueue_acknowledgement(2)
        assert _queued_keys(queued_runtime) == []
    assert _queued_keys(queued_runtime) == ["acknowledge-1", "acknowledge-2"]


class _CountingClassifier:
    """The real model, counting how it is called."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def classify_many(self, items: Any) -> Any:
        self.calls.append("many")
        return self.inner.classify_many(items)

    def classify(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("one")
        return self.inner.classify(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _refuse_processing(runtime: Runtime, item_id: int) -> None:
    """A fault the database itself raises: any transaction marking this item processed fails."""
    with runtime.database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_item BEFORE UPDATE OF status ON items "
                    f"WHEN NEW.id = {item_id} AND NEW.status = 'processed' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_item() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_item BEFORE UPDATE OF status ON items FOR EACH ROW "
                    f"WHEN (NEW.id = {item_id} AND NEW.status = 'processed') EXECUTE FUNCTION refuse_item()"
                )
            )


def test_a_batch_is_classified_together_and_written_in_one_transaction_with_the_labels_of_one_at_a_time(
    queued_runtime: Runtime, loaded_classifier  # type: ignore[no-untyped-def]
) -> None:
    bodies = [
        "The lift in Cedar House has been broken for two weeks and nobody has fixed it.",
        "I want to make a formal complaint about how my repair was handled.",
        "Please can you tell me my rent balance?",
    ]
    ids = [ingest(queued_runtime, email_message(body, sender=f"r{n}@example.com")).item_id for n, body in enumerate(bodies)]
    counting = _CountingClassifier(loaded_classifier)
    calls = counting.calls
    queued_runtime.__dict__["classifier"] = counting
    commits: list[int] = []
    event.listen(queued_runtime.database.engine, "commit", lambda _connection: commits.append(1))
    claimed = queued_runtime.jobs.table.claim("test.1", limit=10)
    assert [job.key for job in claimed] == [f"process-{item_id}" for item_id in ids]
    commits.clear()
    run_claimed(queued_runtime, queued_runtime.jobs.table, "test.1", claimed)
    assert calls == ["many"]  # one model call for the batch, none per item
    # One read before the model runs; one commit processes all three and plans their
    # acknowledgements (the model ran before it began; on SQLite, one commit per
    # SQLITE_ITEMS_PER_TRANSACTION items, so webhooks never wait long for the one writer); the
    # letters go at once, as built: one commit marks them sending, one records them sent; one
    # deletes the finished jobs. No acknowledgement waits as a job of its own.
    writes = 1 if queued_runtime.database.engine.dialect.name != "sqlite" else -(-3 // SQLITE_ITEMS_PER_TRANSACTION)
    assert len(commits) == 1 + writes + 2 + 1
    assert _queued_keys(queued_runtime) == []
    assert _statuses(queued_runtime) == ["sent", "sent", "sent"]
    with queued_runtime.database.session() as session:
        items = list(session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id)))
    for item, body in zip(items, bodies, strict=True):
        alone = loaded_classifier.classify(
            body, channel="email", subject=item.subject, sender=item.sender_address, sender_name=item.sender_name
        )
        assert item.status == "processed"
        assert (item.type, item.queue, item.categories) == (alone.type, alone.queue, list(alone.categories))
    assert _count(queued_runtime, ClassificationRun) == 3


def test_one_item_that_fails_in_a_batch_fails_alone_and_the_others_are_processed(
    queued_runtime: Runtime, loaded_classifier  # type: ignore[no-untyped-def]
) -> None:
    ids = [
        ingest(queued_runtime, email_message(f"My kitchen tap {n} is dripping all night.", sender=f"t{n}@example.com")).item_id
        for n in range(3)
    ]
    _refuse_processing(queued_runtime, ids[1])  # the database refuses to mark this one processed
    claimed = queued_runtime.jobs.table.claim("test.1", limit=10)
    run_claimed(queued_runtime, queued_runtime.jobs.table, "test.1", claimed)
    with queued_runtime.database.session() as session:
        statuses = {item_id: status for item_id, status in session.execute(select(Item.id, Item.status))}
    assert statuses == {ids[0]: "processed", ids[1]: "received", ids[2]: "processed"}
    assert queued_runtime.jobs.table.counts() == {"queued": 3}  # two acknowledgements, the bad item's retry
    assert _queued_keys(queued_runtime)[0] == f"process-{ids[1]}"


def test_a_batchs_letter_the_provider_refuses_for_now_waits_as_a_job_and_the_items_jobs_are_done(
    tmp_path: Path, database_url: str, trained_model_dir: Path, loaded_classifier, twilio_standin: TwilioStandIn  # type: ignore[no-untyped-def]
) -> None:
    settings = make_settings(
        tmp_path, database_url, model_dir=trained_model_dir, jobs="database", twilio=twilio_settings(twilio_standin)
    )
    runtime = Runtime.build(settings)
    runtime.__dict__["classifier"] = loaded_classifier
    try:
        with use_runtime(runtime):
            for n in range(3):
                ingest(runtime, sms_message(f"The boiler in flat {n} has stopped working again.", phone=new_mobile()))
            twilio_standin.fail_next(1, status=503)
            claimed = runtime.jobs.table.claim("test.1", limit=10)
            run_claimed(runtime, runtime.jobs.table, "test.1", claimed)
            # The items' jobs are done; the two letters that went are sent, and the one refused
            # for now waits for its retry as a job of its own.
            assert _statuses(runtime) == ["retry", "sent", "sent"]
            with runtime.database.session() as session:
                waiting = session.scalar(select(Acknowledgement.id).where(Acknowledgement.status == "retry"))
            assert _queued_keys(runtime) == [f"acknowledge-{waiting}"]
            assert len(twilio_standin.messages) == 2
    finally:
        runtime.database.dispose()


# --- real worker processes ------------------------------------------------------------------------------


def _env(runtime: Runtime) -> dict[str, str]:
    settings = runtime.settings
    environment = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
    return {
        **environment,
        "INTAKE_ENVIRONMENT": "test",
        "INTAKE_DATABASE_URL": settings.database_url,
        "INTAKE_JOBS": "database",
        "INTAKE_MODEL_DIR": str(settings.model_dir),
        "INTAKE_OUTBOX_DIR": str(settings.outbox_dir),
        "INTAKE_WORKER_POLL_SECONDS": "0.05",
    }


def _statuses(runtime: Runtime) -> list[str]:
    with runtime.database.session() as session:
        return sorted(session.scalars(select(Acknowledgement.status)))


@pytest.mark.slow
def test_intake_worker_processes_the_queue_in_batches_and_sends_every_acknowledgement(
    queued_runtime: Runtime,
) -> None:
    for number in range(12):
        ingest(
            queued_runtime,
            email_message(f"Please send me form {number} for a parking permit.", sender=f"p{number}@example.com"),
        )
    log = _run_worker_burst(queued_runtime, "--processes", "2", "--batch-size", "5")
    assert_each_item_done_once(queued_runtime, 12)
    assert _queued_keys(queued_runtime) == []
    assert "making way" not in log  # a worker starts well below the default memory limit


def _run_worker_burst(runtime: Runtime, *arguments: str, **environment: str) -> str:
    """`intake worker --burst` until the queue is empty; its log, once it has exited with 0."""
    worker = subprocess.run(
        [sys.executable, "-m", "intake", "worker", "--burst", *arguments],
        env={**_env(runtime), **environment},
        capture_output=True,
        timeout=500,
    )
    log = worker.stdout.decode() + worker.stderr.decode()
    assert worker.returncode == 0, log[-3000:]
    return log


@pytest.mark.slow
def test_a_worker_process_past_its_memory_limit_makes_way_between_batches_and_nothing_is_done_twice(
    queued_runtime: Runtime,
) -> None:
    for number in range(12):
        ingest(
            queued_runtime,
            email_message(f"The bin store door at block {number} will not lock.", sender=f"b{number}@example.com"),
        )
    # 1 MB: every worker process is past it after its first batch, so each batch gets a fresh process.
    log = _run_worker_burst(queued_runtime, "--processes", "1", "--batch-size", "4", INTAKE_WORKER_MAX_RESIDENT_MB="1")
    assert log.count("making way for a fresh one") >= 3  # 12 items, 4 a batch
    assert "is too low for a worker" in log  # the supervisor says the limit cannot work
    assert "handing back its job" not in log  # it left between batches, holding none
    assert_each_item_done_once(queued_runtime, 12)
    assert _queued_keys(queued_runtime) == []


def test_a_processs_resident_size_is_read_as_it_grows() -> None:
    from intake.process_memory import resident_mb
    from intake.workers import outgrown

    before = resident_mb()
    ballast = bytearray(64 * 2**20)  # zero-filled, so every page is touched
    after = resident_mb()
    assert before > 10 and after - before > 50
    assert outgrown("test", int(before + 10)) and not outgrown("test", int(after + 100))
    assert not outgrown("test", 0)  # 0: never
    del ballast


@pytest.mark.slow
def test_intake_serve_answers_at_once_and_its_worker_process_does_the_rest(queued_runtime: Runtime) -> None:
    with queued_runtime.database.session() as session:
        token = create_token(session, "housing-system")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "intake", "serve", "--port", str(port)],
        env=_env(queued_runtime),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _healthy(base), timeout=120)
        response = httpx.post(
            f"{base}/api/v1/items",
            json={
                "channel": "web_form",
                "external_id": "form-1",
                "body": "My kitchen extractor fan has stopped working, please can someone fix it.",
                "sender": "resident@example.com",
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 202 and response.json()["status"] == "received"
        _wait_for(lambda: _statuses(queued_runtime) == ["sent"], timeout=180)
        # The worker processes yield the CPU to the server that answers requests (INTAKE_WORKER_NICENESS).
        workers = [pid for pid in _descendants(server.pid) if b"worker" in _command_line(pid)]
        assert workers and {_nice_value(pid) for pid in workers} == {_nice_value(server.pid) + 10}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode == 0
    assert _count(queued_runtime, Item, Item.status == "processed") == 1


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # gone since the listing
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _command_line(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _nice_value(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_process_killed_mid_job_is_replaced_and_the_item_processed_once(
    tmp_path: Path, postgres_url: str, trained_model_dir: Path
) -> None:
    # postgres_url is a freshly migrated database of this test's own (cloned per test).
    runtime = Runtime.build(make_settings(tmp_path, postgres_url, model_dir=trained_model_dir, jobs="database"))
    runtime.database.upgrade()
    result = ingest(
        runtime, email_message("The lift in Cedar House has been broken for two weeks and nobody has fixed it.")
    )
    # Hold the item's row so the job blocks inside process_item, then kill the process running it.
    engine = create_engine(postgres_url)
    blocker = engine.connect()
    transaction = blocker.begin()
    blocker.execute(text("SELECT id FROM items WHERE id = :id FOR UPDATE"), {"id": result.item_id})
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "intake", "worker", "--sweep-every", "0"],
        env=_env(runtime),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: _holder(runtime) is not None, timeout=120)
        holder = _holder(runtime)
        assert holder is not None
        os.kill(int(holder.rpartition(".")[2]), signal.SIGKILL)
        transaction.rollback()
        blocker.close()
        _wait_for(lambda: _count(runtime, Item, Item.status == "processed") == 1, timeout=120)
        _wait_for(lambda: _statuses(runtime) == ["sent"], timeout=60)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=60)
        engine.dispose()
        runtime.database.dispose()
    assert len(list((runtime.settings.outbox_dir / "email").iterdir())) == 1


def _holder(runtime: Runtime) -> str | None:
    with runtime.database.session() as session:
        return session.scalar(select(QueuedJob.locked_by).where(QueuedJob.status == "running"))




def test_the_supervisor_loads_what_every_worker_needs_before_it_forks(
    queued_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import holidays

    from intake.workers import WORKER_YOUNG_GC_THRESHOLD, preload

    queued_runtime.__dict__.pop("policy", None)
    thresholds = gc.get_threshold()
    try:
        preload(queued_runtime)
        assert gc.get_freeze_count() > 0  # the collector leaves the loaded objects alone in every child
        # and runs on the young generation once in 20,000 new objects, not 700: a batch's garbage
        assert gc.get_threshold() == (WORKER_YOUNG_GC_THRESHOLD, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert {"classifier", "policy", "calendar"} <= set(queued_runtime.__dict__)
    built: list[object] = []
    original = holidays.UnitedKingdom
    monkeypatch.setattr(holidays, "UnitedKingdom", lambda *a, **k: built.append(k) or original(*a, **k))
    christmas = datetime(queued_runtime.clock.now().year + 1, 12, 25).date()
    assert queued_runtime.calendar.bank_holiday(christmas) == "Christmas Day"
    assert built == []  # next year's bank holidays were loaded before the fork


def test_the_worker_sweeps_every_minute_and_refreshes_the_facts_every_ten() -> None:
    options = WorkerOptions(sweep_every=60, report_facts_every=600)
    assert sweep_due(options, since_sweep=30, since_facts=900) == SweepDue(sweep=False, report_facts=False)
    assert sweep_due(options, since_sweep=60, since_facts=120) == SweepDue(sweep=True, report_facts=False)
    assert sweep_due(options, since_sweep=60, since_facts=600) == SweepDue(sweep=True, report_facts=True)
    never = WorkerOptions(sweep_every=0, report_facts_every=600)
    assert sweep_due(never, since_sweep=9999, since_facts=9999) == SweepDue(sweep=False, report_facts=False)
