"""CPU per acknowledgement, in-process: planned, rendered, sent through the real `twilio` client.

    BENCH_DB_PREFIX=acks_bench PYTHONPATH=$PWD .venv/bin/python bench/bench_acknowledgements.py --texts 320 --batch 32

On PostgreSQL (a database `<BENCH_DB_PREFIX>_acks`, recreated), with the Twilio stand-in
(tests/channels/twilio_standin.py) in a process of its own so its CPU is not counted: stores N
residents' texts from data/seed (their jobs collected, not run), processes them in batches as a
worker does, then sends their acknowledgements in batches (`send_acknowledgements`). Reports, as
CPU time of this process (time.process_time: all its threads):
- plan: `plan_acknowledgements` alone, per acknowledgement planned (the pipeline's pending changes flushed first, so
  the item's own writes are not counted as planning's);
- process: the whole of `process_items` per item (classification, rules, deadlines, plan);
- send: `send_acknowledgements` per acknowledgement (mark `sending`, the provider call, record
  `sent`), and its wall time. `--profile send|process` prints cProfile's top entries (CPU clock).
The machine is shared: compare A/B in the same minute, and say the load (printed) with the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_db import recreate_postgres  # noqa: E402  (beside this script)
from bench_rig import POSTGRES_SERVER as SERVER  # noqa: E402
from bench_rig import StandInProcess, bench_settings  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from intake import pipeline  # noqa: E402
from intake.acknowledgements import send_acknowledgements  # noqa: E402
from intake.db import upgrade_database  # noqa: E402
from intake.pipeline import ingest, process_items  # noqa: E402
from intake.runtime import Runtime, use_runtime  # noqa: E402
from tests.factories import sms_message  # noqa: E402

ACCOUNT_SID = "AC" + "ac" * 16
AUTH_TOKEN = "bench-acknowledgements-0123456789"


class CollectedJobs:
    """A job queue that keeps the ids it is given: the bench runs each step itself."""

    def __init__(self) -> None:
        self.items: list[int] = []
        self.acknowledgements: list[int] = []

    def enqueue_process_item(self, item_id: int, *, session: Session | None = None) -> None:
        self.items.append(item_id)

    def enqueue_process_items(self, item_ids: list[int], *, session: Session | None = None) -> None:
        self.items.extend(item_ids)

    def enqueue_acknowledgement(self, acknowledgement_id: int, *, session: Session | None = None) -> None:
        self.acknowledgements.append(acknowledgement_id)

    def enqueue_named(self, function: str, *args: Any, job_id: str, timeout: int | None = None) -> None:
        pass


def seed_texts() -> list[str]:
    texts = []
    for path in sorted((REPO / "data" / "seed").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("channel") == "sms" and row.get("body") and row.get("type") != "junk" \
                    and row.get("queue") != "not_for_triage":
                texts.append(row["body"])
    random.Random(5).shuffle(texts)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=320)
    parser.add_argument("--batch", type=int, default=32, help="items per process_items, acks per send batch")
    parser.add_argument("--profile", choices=("send", "process"), default=None)
    args = parser.parse_args()

    database = f"{os.environ.get('BENCH_DB_PREFIX', 'intake_bench')}_acks"
    url = f"{SERVER}/{database}"
    recreate_postgres(url)
    engine = create_engine(url)
    upgrade_database(engine)
    engine.dispose()

    standin = StandInProcess(ACCOUNT_SID, AUTH_TOKEN)
    settings = bench_settings(url, work=Path(f"/tmp/{database}"), standin=standin, redis_url=None, jobs="inline")
    runtime = Runtime.build(settings)
    jobs = CollectedJobs()
    runtime.jobs = jobs
    planning = {"cpu": 0.0, "calls": 0}
    plan = pipeline.plan_acknowledgements

    def timed_plan(runtime: Runtime, session: Session, items: Any, **kwargs: Any) -> Any:
        session.flush()  # the items' own pending writes are the pipeline's, not planning's
        started = time.process_time()
        try:
            return plan(runtime, session, items, **kwargs)
        finally:
            planning["cpu"] += time.process_time() - started
            planning["calls"] += len(items)

    pipeline.plan_acknowledgements = timed_plan  # type: ignore[assignment]
    texts = seed_texts()
    warm = 20
    with use_runtime(runtime):
        runtime.classifier  # noqa: B018 - loaded before anything is timed
        for number in range(args.texts + warm):
            ingest(runtime, sms_message(texts[number % len(texts)], phone=f"+4474003{number:05d}"))
        process_items(runtime, jobs.items[:warm])
        send_acknowledgements(runtime, jobs.acknowledgements[:warm])
        jobs.acknowledgements.clear()
        planning.update(cpu=0.0, calls=0)
        items = jobs.items[warm:]

        profile = cProfile.Profile(time.process_time) if args.profile else None
        if profile and args.profile == "process":
            profile.enable()
        started = time.process_time()
        for start in range(0, len(items), args.batch):
            process_items(runtime, items[start : start + args.batch])
        process_cpu = time.process_time() - started
        if profile and args.profile == "process":
            profile.disable()

        acknowledgements = list(jobs.acknowledgements)
        if profile and args.profile == "send":
            profile.enable()
        started, wall = time.process_time(), time.perf_counter()
        for start in range(0, len(acknowledgements), args.batch):
            send_acknowledgements(runtime, acknowledgements[start : start + args.batch])
        send_cpu, send_wall = time.process_time() - started, time.perf_counter() - wall
        if profile and args.profile == "send":
            profile.disable()
    runtime.database.dispose()
    standin.stop()

    per = 1000 / max(len(acknowledgements), 1)
    print(f"load average {os.getloadavg()[0]:.2f}; {len(items)} texts, {len(acknowledgements)} acknowledgements, "
          f"batches of {args.batch}")
    print(f"plan    {1000 * planning['cpu'] / max(planning['calls'], 1):.2f} ms CPU per acknowledgement")
    print(f"process {1000 * process_cpu / max(len(items), 1):.2f} ms CPU per item (plan included)")
    print(f"send    {per * send_cpu:.2f} ms CPU per acknowledgement, {per * send_wall:.2f} ms wall")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
