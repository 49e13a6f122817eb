"""CPU per signed SMS webhook, in-process: the real app behind httpx.ASGITransport, 8 at a time.

    PYTHONPATH=$PWD .venv/bin/python bench/webhook_cpu.py --mode sqlite --requests 400
    PYTHONPATH=$PWD .venv/bin/python bench/webhook_cpu.py --mode postgres --redis-url redis://127.0.0.1:6379/3
    ... --profile out.pstats   (cProfile of the measured part)
    ... --round-trips          (PostgreSQL: libpq's trace of every connection; count ReadyForQuery)

On PostgreSQL the backends' CPU is read from /proc for each of the engine's connections (their
pids from `pg_backend_pid()` when each connects), so it is the request path's alone. With
`--round-trips` the CPU figures are the tracing's too: use it for the counts, not the timings.

Jobs are queued (database queue on SQLite, rq on PostgreSQL) and never run: this measures the
request path alone. CPU is this process's (time.process_time: client included, as in
docs/benchmarks.md), so compare A/B runs of the same script in the same minute.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr
from sqlalchemy import event
from twilio.request_validator import RequestValidator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# httpx's ASGITransport looks for sniffio on every request; absent, each look is a failed import
# searching sys.path (~1 ms of the client's CPU a request). Known absent: fail at once.
if "sniffio" not in sys.modules:
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]

from bench_db import HISTORY_ON_POSTGRES, WARMUP_ON_SQLITE, analyze, recreate_postgres  # noqa: E402  (beside this script)

from intake.app import create_app  # noqa: E402
from intake.ingest_groups import IDLE_SECONDS, IngestGroups  # noqa: E402
from intake.runtime import Runtime  # noqa: E402
from intake.settings import Settings, TwilioSettings  # noqa: E402

TOKEN = "cpu-bench-token-0123456789abcdef"
BASE = "https://intake.bench.example"
PATH = "/webhooks/twilio/sms"


WRITER_CPU = [0.0]  # CPU seconds spent in the group writers' threads (cProfile sees only the loop's)
WRITER_PROFILES: list[cProfile.Profile] = []


def measure_writers(profile: bool) -> None:
    """Wrap the group writer's thread body: count its thread CPU, and cProfile it (thread CPU
    as the clock) when profiling, so the profile shows where the writers' CPU goes too."""
    run = IngestGroups._run

    def measured(self: IngestGroups) -> None:
        started = time.thread_time()
        profiler = cProfile.Profile(time.thread_time) if profile else None
        if profiler:
            profiler.enable()
        try:
            run(self)
        finally:
            if profiler:
                profiler.disable()
                WRITER_PROFILES.append(profiler)
            WRITER_CPU[0] += time.thread_time() - started

    IngestGroups._run = measured  # type: ignore[method-assign]


BACKEND_PIDS: list[int] = []


def watch_backends(runtime: Runtime, trace_to: int | None) -> None:
    """Note each new PostgreSQL connection's backend pid; trace its protocol when asked."""

    def connected(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        BACKEND_PIDS.append(cursor.fetchone()[0])
        cursor.close()
        dbapi_connection.commit()
        if trace_to is not None:
            dbapi_connection.pgconn.trace(trace_to)

    event.listen(runtime.database.engine, "connect", connected)


def backends_cpu() -> float:
    """CPU seconds (user + system) of the backends noted so far (0 for one gone or unreadable)."""
    total = 0.0
    for pid in BACKEND_PIDS:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def build(args: argparse.Namespace, work: Path) -> Runtime:
    if args.mode == "sqlite":
        url, redis = f"sqlite:///{work}/intake.db", None
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{os.environ.get('BENCH_DB_PREFIX', 'webhook_bench')}_cpu"
        recreate_postgres(url)
        redis = args.redis_url
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=url,
        redis_url=redis,
        jobs="auto",
        queue_name="webhook-cpu",
        public_base_url=BASE,
        outbox_dir=work / "outbox",
        raw_store_dir=work / "raw",
        twilio=TwilioSettings(
            account_sid="AC" + "be" * 16, auth_token=SecretStr(TOKEN), from_number="+447480000001"
        ),
    )
    runtime = Runtime.build(settings)
    runtime.database.upgrade()
    if redis:
        runtime.jobs.connection.flushdb()  # type: ignore[attr-defined]
    return runtime


def webhook(number: int, run: int) -> tuple[bytes, dict[str, str]]:
    sid = f"SM{run:08x}{number:024x}"
    form = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": f"The boiler has stopped working again, no hot water since Monday ({number})",
        "To": "+447480000001",
        "MessageSid": sid,
        "AccountSid": "AC" + "be" * 16,
        "From": f"+4474001{number % 90000:05d}",
        "ApiVersion": "2010-04-01",
        "NumSegments": "1",
    }
    signature = RequestValidator(TOKEN).compute_signature(BASE + PATH, form)
    return urlencode(form).encode(), {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def send(
    client: httpx.AsyncClient, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> list[float]:
    queue = list(reversed(bodies))
    latencies: list[float] = []

    async def connection() -> None:
        while queue:
            body, headers = queue.pop()
            started = time.perf_counter()
            response = await client.post(PATH, content=body, headers=headers)
            assert response.status_code == 200, response.text
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument(
        "--history",
        type=int,
        default=None,
        help="webhooks stored first, then (PostgreSQL) the database analyzed: a landlord's database has "
        f"a history and statistics (default: {HISTORY_ON_POSTGRES} on PostgreSQL, {WARMUP_ON_SQLITE} on SQLite; bench_db.py says why)",
    )
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--round-trips", action="store_true", help="PostgreSQL: count round trips (libpq trace)")
    args = parser.parse_args()
    measure_writers(bool(args.profile))
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build(args, Path(tmp))
        trace_path = Path(tmp) / "libpq.trace"
        trace = trace_path.open("w") if args.round_trips else None
        if args.mode == "postgres":
            runtime.database.dispose()  # the migrations' connections: noted from here on
            watch_backends(runtime, trace.fileno() if trace else None)
        app = create_app(runtime)
        statements = [0]
        event.listen(
            runtime.database.engine,
            "before_cursor_execute",
            lambda *_: statements.__setitem__(0, statements[0] + 1),
        )
        transport = httpx.ASGITransport(app=app)
        backends = [0.0]
        traced_before = [0]

        history = args.history if args.history is not None else (HISTORY_ON_POSTGRES if args.mode == "postgres" else WARMUP_ON_SQLITE)

        async def run() -> tuple[float, float, list[float]]:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await send(client, [webhook(n, 0) for n in range(history)], args.concurrency)  # warm-up
                if args.mode == "postgres":
                    analyze(runtime.database.engine.url.render_as_string(hide_password=False))
                await asyncio.sleep(IDLE_SECONDS + 0.5)  # the warm-up's writers end: count fresh ones
                bodies = [webhook(n, 1) for n in range(args.requests)]
                profiler = cProfile.Profile() if args.profile else None
                statements[0] = 0
                getattr(app.state, 'ingest_groups', None) and setattr(app.state.ingest_groups, 'batches', 0)
                WRITER_CPU[0] = 0.0
                WRITER_PROFILES.clear()
                if trace:
                    trace.flush()
                    traced_before[0] = trace_path.stat().st_size
                backends[0] = backends_cpu()
                cpu, wall = time.process_time(), time.perf_counter()
                loop_cpu = time.thread_time()
                if profiler:
                    profiler.enable()
                latencies = await send(client, bodies, args.concurrency)
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(str(args.profile))
                loop_cpu = time.thread_time() - loop_cpu
                backends[0] = backends_cpu() - backends[0]
                return time.process_time() - cpu, time.perf_counter() - wall, latencies, loop_cpu

        cpu, wall, latencies, loop_cpu = asyncio.run(run())
        time.sleep(IDLE_SECONDS + 0.5)  # the writers end (and count their CPU) after IDLE_SECONDS idle
        if args.profile and WRITER_PROFILES:
            merged = pstats.Stats(WRITER_PROFILES[0])
            for each in WRITER_PROFILES[1:]:
                merged.add(each)
            merged.dump_stats(str(args.profile.with_suffix(".writers.pstats")))
        latencies.sort()
        n = len(latencies)
        groups = max(1, getattr(getattr(app.state, "ingest_groups", None), "batches", n))
        round_trips = ""
        if trace:
            trace.close()
            with trace_path.open("rb") as traced:
                traced.seek(traced_before[0])
                ready = sum(1 for line in traced if b"\tB\t5\tReadyForQuery" in line)
            round_trips = f", PostgreSQL round trips {ready / n:.2f} each, {ready / groups:.1f} a group"
        print(
            f"{args.mode}: {n} webhooks, CPU {cpu / n * 1000:.2f} ms each, {n / wall:.0f}/s wall, "
            f"p50 {latencies[n // 2] * 1000:.1f} ms, p99 {latencies[int(n * 0.99)] * 1000:.1f} ms, "
            f"(event loop thread {loop_cpu / n * 1000:.2f}, writers {WRITER_CPU[0] / n * 1000:.2f}), "
            f"SQL statements {statements[0] / n:.2f} each, {n / groups:.1f} a group{round_trips}, "
            f"PostgreSQL backends' CPU {backends[0] / n * 1000:.2f} ms each, load {os.getloadavg()[0]:.1f}"
        )
        runtime.database.dispose()


if __name__ == "__main__":
    main()
