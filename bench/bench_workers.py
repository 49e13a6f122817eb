"""Worker throughput: how many items a given number of worker processes classify, route and acknowledge.

    .venv/bin/python bench/bench_workers.py --items 2000 --processes 1 2 4 [--mode rq|database]

For each process count: an empty PostgreSQL database (intake_bench_workers, recreated) and Redis
database 13 (flushed); `--items` seed-corpus messages ingested through the real `pipeline.ingest`
(each its own sender, so none hits the daily acknowledgement limit) with their jobs queued; then
`intake worker --burst --processes N` runs until the queues are empty. Measured: wall time from the
worker's start to its exit (including loading the model, reported apart), items/s, CPU time of the
worker processes per item (from the kernel's accounting of the finished children), and PostgreSQL's
share is not included. Acknowledgements go to the file outbox. The machine's load average is
recorded before and after each run: on a shared machine, read the figures as lower bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from channels.message import InboundMessage  # noqa: E402
from intake.pipeline import ingest  # noqa: E402
from intake.runtime import Runtime  # noqa: E402
from intake.settings import Settings  # noqa: E402
from models import Acknowledgement, Item  # noqa: E402

# BENCH_DB_PREFIX: another name for the database this recreates, so two people's runs on one
# PostgreSQL never drop each other's (e.g. BENCH_DB_PREFIX=pipeline_speed_bench).
DEFAULT_POSTGRES_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{os.environ.get('BENCH_DB_PREFIX', 'intake_bench')}_workers"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"


def seed_messages(count: int) -> list[InboundMessage]:
    rows = []
    for path in sorted((REPO / "data" / "seed").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("channel") in ("email", "web_form") and row.get("body"):
                    rows.append(row)
    messages = []
    for number in range(count):
        row = rows[number % len(rows)]
        sender = f"bench{number}@example.com"
        messages.append(
            InboundMessage(
                channel="email",
                external_id=f"<bench-{number}@example.com>",
                body=row["body"],
                subject=row.get("subject") or "Message",
                sender_address=sender,
                sender_email=sender,
                sender_name="Bench Resident",
            )
        )
    return messages


def recreate(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def run_once(args: argparse.Namespace, processes: int, work: Path) -> dict[str, object]:
    recreate(args.database_url)
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
    env.update(
        INTAKE_DATABASE_URL=args.database_url,
        INTAKE_MODEL_DIR=str(args.model_dir.resolve()),
        INTAKE_OUTBOX_DIR=str(work / f"outbox-{processes}"),
        INTAKE_JOBS=args.mode,
        INTAKE_WORKER_BATCH_SIZE=str(args.batch_size),
    )
    if args.mode == "rq":
        from redis import Redis

        Redis.from_url(args.redis_url).flushdb()
        env["INTAKE_REDIS_URL"] = args.redis_url
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=args.database_url,
        redis_url=args.redis_url if args.mode == "rq" else None,
        jobs=args.mode,
        outbox_dir=work / f"outbox-{processes}",
    )
    runtime = Runtime.build(settings)
    runtime.database.upgrade()
    command = [sys.executable, "-m", "intake", "worker", "--burst", "--processes", str(processes), "--sweep-every", "0"]
    # Start-up measured apart: the same worker on the empty queue imports, loads the model and exits.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600, check=True)
    startup_wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    startup_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    started = time.monotonic()
    for message in seed_messages(args.items):
        ingest(runtime, message, actor="bench")
    ingest_seconds = time.monotonic() - started

    # The model's load time, measured apart: a worker with nothing to do loads it and exits.
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    completed = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-3000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with runtime.database.session() as session:
        processed = session.scalar(select(func.count()).select_from(Item).where(Item.status == "processed"))
        sent = session.scalar(
            select(func.count()).select_from(Acknowledgement).where(Acknowledgement.status == "sent")
        )
    jobs_run = _jobs_run(args) if args.mode == "rq" else None
    runtime.database.dispose()
    # Busy: the run's wall time less the start-up measured above (an item's updated_at moves again
    # when its acknowledgement is recorded, so it cannot mark the start of the work).
    busy = wall - startup_wall if wall > startup_wall else None
    return {
        "processes": processes,
        "items": args.items,
        "processed": processed,
        "acknowledgements_sent": sent,
        "ingest_items_per_second": round(args.items / ingest_seconds, 1),
        "worker_wall_seconds": round(wall, 2),
        "items_per_second_incl_start": round(args.items / wall, 1),
        "busy_seconds": round(busy, 2) if busy else None,
        "items_per_second_busy": round(args.items / busy, 1) if busy else None,
        "worker_cpu_ms_per_item": round(1000 * cpu / args.items, 2),
        "startup_seconds": round(startup_wall, 2),
        "worker_cpu_ms_per_item_after_startup": round(1000 * max(cpu - startup_cpu, 0.0) / args.items, 2),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        # rq jobs that ran (each a batch, or a job whose item another worker's batch had taken):
        # with one process ≈ items / 32; more than that is work lost to workers racing for jobs.
        "jobs_run": jobs_run,
    }


def _jobs_run(args: argparse.Namespace) -> dict[str, int]:
    """How many process-item and acknowledgement jobs ran to the end (rq keeps them a while)."""
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    connection = Redis.from_url(args.redis_url)
    counts = {}
    for name in ("intake", "intake-acknowledgements"):
        queue = Queue(name, connection=connection, serializer=JSONSerializer)
        counts[name] = queue.finished_job_registry.count + queue.failed_job_registry.count
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--mode", choices=("rq", "database"), default="rq")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--model-dir", type=Path, default=REPO / "var" / "models")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_workers_"))
    results = []
    for count in args.processes:
        result = run_once(args, count, work)
        print(json.dumps(result), flush=True)
        results.append(result)
    report = {
        "mode": args.mode,
        "batch_size": args.batch_size,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "runs": results,
    }
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
