"""Real rq workers on real Redis and PostgreSQL: several processes, retries, a killed work horse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, func, select, text

from intake.pipeline import ingest
from intake.runtime import Runtime, use_runtime
from models import Acknowledgement, Item
from tests.conftest import _reset_postgres, make_settings
from tests.factories import email_message

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def rq_runtime(tmp_path: Path, postgres_url: str, redis_url: str, trained_model_dir: Path):  # type: ignore[no-untyped-def]
    _reset_postgres(postgres_url)
    Redis.from_url(redis_url).flushdb()
    settings = make_settings(
        tmp_path,
        postgres_url,
        redis_url=redis_url,
        model_dir=trained_model_dir,
        queue_name=f"intake-test-{uuid.uuid4().hex[:8]}",
    )
    runtime = Runtime.build(settings)
    runtime.database.upgrade()
    with use_runtime(runtime):
        yield runtime
    runtime.database.dispose()
    Redis.from_url(redis_url).flushdb()


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


def _start_worker(runtime: Runtime, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "intake", "worker", "--sweep-every", "0", *args],
        env=_worker_env(runtime),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _processed(runtime: Runtime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(Item).where(Item.status == "processed")) or 0


def test_two_workers_process_every_item_once_with_one_acknowledgement_each(rq_runtime: Runtime) -> None:
    for number in range(20):
        # A different sender each: one sender would hit the 10-a-day acknowledgement limit.
        ingest(
            rq_runtime,
            email_message(
                f"Please can you send me form number {number} for a parking permit.",
                sender=f"resident{number}@example.com",
            ),
        )
    workers = [_start_worker(rq_runtime, "--burst") for _ in range(2)]
    try:
        for worker in workers:
            worker.wait(timeout=600)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert _processed(rq_runtime) == 20
    with rq_runtime.database.session() as session:
        statuses = session.scalars(select(Acknowledgement.status)).all()
    assert sorted(statuses) == ["sent"] * 20
    assert len(list((rq_runtime.settings.outbox_dir / "email").iterdir())) == 20


def test_a_job_is_never_queued_twice(rq_runtime: Runtime) -> None:
    result = ingest(rq_runtime, email_message("What are the office opening hours over Christmas?"))
    rq_runtime.jobs.enqueue_process_item(result.item_id)
    rq_runtime.jobs.enqueue_process_item(result.item_id)
    queue = Queue(
        rq_runtime.settings.queue_name,
        connection=Redis.from_url(rq_runtime.settings.redis_url),
        serializer=JSONSerializer,
    )
    assert queue.job_ids == [f"process-{result.item_id}"]


def test_an_item_whose_worker_dies_mid_job_is_processed_once_its_job_runs_again(rq_runtime: Runtime) -> None:
    result = ingest(
        rq_runtime,
        email_message("The lift in Cedar House has been broken for two weeks and nobody has fixed it."),
    )
    # Hold the item's row so the job blocks inside process_item, then kill its work horse.
    engine = create_engine(rq_runtime.settings.database_url)
    blocker = engine.connect()
    transaction = blocker.begin()
    blocker.execute(text("SELECT id FROM items WHERE id = :id FOR UPDATE"), {"id": result.item_id})
    worker = _start_worker(rq_runtime)
    try:
        horse = _wait_for_horse(worker.pid)
        time.sleep(0.5)
        os.kill(horse, signal.SIGKILL)
        transaction.rollback()
        blocker.close()
        _wait_for(lambda: _processed(rq_runtime) == 1, timeout=90)
        _wait_for(lambda: _acknowledgement_statuses(rq_runtime) == ["sent"], timeout=30)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        engine.dispose()
    assert len(list((rq_runtime.settings.outbox_dir / "email").iterdir())) == 1


def _acknowledgement_statuses(runtime: Runtime) -> list[str]:
    with runtime.database.session() as session:
        return list(session.scalars(select(Acknowledgement.status)))


def _wait_for_horse(worker_pid: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children_file = Path(f"/proc/{worker_pid}/task/{worker_pid}/children")
        children = children_file.read_text().split() if children_file.exists() else []
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise AssertionError("the worker never started a work horse")
