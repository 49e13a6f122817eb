"""CPU per item of one rq worker, in-process: what `intake worker` does with a queue of texts.

    BENCH_DB_PREFIX=worker_bench PYTHONPATH=$PWD .venv/bin/python bench/profile_worker.py \
        --items 640 --channel sms --redis-url redis://127.0.0.1:6379/4 [--profile 40] [--statements [--where]]

On PostgreSQL (`<BENCH_DB_PREFIX>_profile`, recreated) and the given Redis database (flushed): N
residents' messages from data/seed stored through `pipeline.ingest` with their rq jobs queued
(texts, each from its own number, acknowledged through the real `twilio` client to the stand-in in
a process of its own; or emails to the file outbox), then the worker's own loop — rq's
SimpleWorker as `intake worker` makes it, after `workers.preload` — runs in this process until the
queues are empty. Reported: this process's CPU time (all threads) per item, the CPU time of the
PostgreSQL backends serving it while the worker ran (from /proc: the server must be on this
machine), the SQL statements per item (`--statements`; `--where`: which of our functions sent each
statement that went alone, not as an executemany), and with `--profile N` cProfile's top N by own
time and by cumulative time.
The machine is shared: compare A/B in the same minutes and say the load (printed).
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
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_db import recreate_postgres  # noqa: E402  (beside this script)
from bench_rig import POSTGRES_SERVER as SERVER  # noqa: E402
from bench_rig import StandInProcess, bench_settings  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from channels.message import InboundMessage  # noqa: E402
from intake import workers  # noqa: E402
from intake.pipeline import ingest  # noqa: E402
from intake.runtime import Runtime, use_runtime  # noqa: E402
from models import Acknowledgement, Item  # noqa: E402

ACCOUNT_SID = "AC" + "ac" * 16
AUTH_TOKEN = "bench-profile-worker-0123456789"


def seed_messages(count: int, channel: str) -> list[InboundMessage]:
    rows = []
    for path in sorted((REPO / "data" / "seed").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            wanted = ("sms",) if channel == "sms" else ("email", "web_form")
            if row.get("channel") in wanted and row.get("body"):
                rows.append(row)
    random.Random(5).shuffle(rows)
    messages = []
    for number in range(count):
        row = rows[number % len(rows)]
        if channel == "sms":
            phone = f"+4474003{number:05d}"
            messages.append(InboundMessage(channel="sms", external_id=f"SMprofile{number:024d}", body=row["body"],
                                           sender_address=phone, sender_phone=phone))
        else:
            sender = f"bench{number}@example.com"
            messages.append(InboundMessage(
                channel="email", external_id=f"<bench-{number}@example.com>", body=row["body"],
                subject=row.get("subject") or "Message", sender_address=sender, sender_email=sender,
                sender_name="Bench Resident"))
    return messages


def backend_cpu_seconds(pids: set[int]) -> dict[int, float]:
    """utime + stime of each PostgreSQL backend process, from /proc (0 for one that has gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            seconds[pid] = 0.0
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15)
    return seconds


def caller(statement_kind: str) -> str:
    """`statement_kind` with the innermost of our own functions that sent it."""
    ours = [frame for frame in traceback.extract_stack() if f"{REPO}/intake/" in frame.filename]
    path = " < ".join(f"{Path(frame.filename).name}:{frame.name}" for frame in reversed(ours[-5:]))
    return f"{statement_kind[:40]} from {path}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=640)
    parser.add_argument("--channel", choices=("sms", "email"), default="sms")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N entries")
    parser.add_argument("--profile-out", type=Path, default=None, help="with --profile: also save the stats here")
    parser.add_argument("--statements", action="store_true", help="count SQL statements by their first words")
    parser.add_argument("--where", action="store_true", help="with --statements: who sent each single statement")
    args = parser.parse_args()

    from redis import Redis

    Redis.from_url(args.redis_url).flushdb()
    database = f"{os.environ.get('BENCH_DB_PREFIX', 'intake_bench')}_profile"
    url = f"{SERVER}/{database}"
    recreate_postgres(url)
    standin = StandInProcess(ACCOUNT_SID, AUTH_TOKEN)
    settings = bench_settings(url, work=Path(f"/tmp/{database}"), standin=standin, redis_url=args.redis_url, jobs="rq")
    runtime = Runtime.build(settings)
    runtime.database.upgrade()
    statements: Counter[str] = Counter()
    singles: Counter[str] = Counter()
    backends: set[int] = set()

    def note_backend(connection: Any, _record: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends.add(cursor.fetchone()[0])
        # End the transaction the query began: a connection handed out in one cannot be switched to
        # AUTOCOMMIT, as the request path's PostgreSQL writer does (pipeline.ingest_group).
        connection.commit()

    event.listen(runtime.database.engine, "connect", note_backend)
    runtime.database.engine.dispose()  # so every connection from here on is noted
    with use_runtime(runtime):
        workers.preload(runtime)
        for message in seed_messages(args.items, args.channel):
            ingest(runtime, message, actor="bench")
        if args.statements:
            def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
                words = statement.split()
                kind = " ".join(words[:3]) if words[0] != "UPDATE" else " ".join(words[:2]) + " " + statement.partition(" WHERE ")[0][-80:]
                statements[kind[:120] + (f" (executemany of {len(parameters)})" if many else "")] += 1
                if args.where and not many:
                    singles[caller(kind)] += 1

            event.listen(runtime.database.engine, "before_cursor_execute", count)
        from redis import Redis as Connection_
        from rq import Queue
        from rq.serializers import JSONSerializer

        connection = Connection_.from_url(args.redis_url)
        queues = [Queue(q.name, connection=connection, serializer=JSONSerializer) for q in runtime.jobs.queues]
        worker = workers._simple_worker_class()(queues, connection=connection, serializer=JSONSerializer,
                                                name=f"profile-{os.getpid()}")
        load_before = os.getloadavg()[0]
        backends_before = backend_cpu_seconds(backends)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        started, wall = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
        if profile:
            profile.disable()
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
        backends_after = backend_cpu_seconds(backends)
        postgres_cpu = sum(backends_after[pid] - backends_before.get(pid, 0.0) for pid in backends_after)
        with runtime.database.session() as session:
            processed = session.scalar(select(func.count()).select_from(Item).where(Item.status == "processed"))
            sent = session.scalar(select(func.count()).select_from(Acknowledgement).where(Acknowledgement.status == "sent"))
    runtime.database.dispose()
    standin.stop()
    print(f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}; {args.items} {args.channel} items: "
          f"{processed} processed, {sent} acknowledgements sent")
    print(f"worker {1000 * cpu / args.items:.2f} ms CPU per item, {wall:.1f} s wall; its PostgreSQL backends "
          f"({len(backends)}) {1000 * postgres_cpu / args.items:.2f} ms CPU per item")
    if statements:
        total = sum(statements.values())
        print(f"{total / args.items:.2f} statements per item")
        for text, number in statements.most_common(25):
            print(f"  {number:6d}  {text}")
    if singles:
        print("statements sent alone, by caller:")
        for text, number in singles.most_common(25):
            print(f"  {number:6d}  {text}")
    if profile:
        stats = pstats.Stats(profile)
        if args.profile_out is not None:  # for pstats' callers/callees, or snakeviz
            stats.dump_stats(args.profile_out)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
