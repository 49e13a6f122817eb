"""Intake API benchmark: sustained POST /api/v1/items against PostgreSQL + Redis + rq workers, next to
a bare FastAPI endpoint (bench/bare_app.py) measured in the same run.

    .venv/bin/python bench/bench_api.py --duration 30 --concurrency 32 --api-workers 2 --workers 2 \
        [--rate 0] [--markdown-out FILE]

It recreates its own PostgreSQL database (intake_bench_api) and flushes Redis database 14, migrates,
reuses or trains the model, creates an API token, starts `intake serve` and `intake worker`
processes and the bare app as subprocesses, drives each on loopback with bench/api_load.py, waits for
the queue to drain, and reads receipt → acknowledgement (acknowledgements.sent_at − items.created_at)
from the database. Every process it started is stopped on exit, Ctrl-C or error. Not a test: the
figures go in docs/benchmarks.md (## Intake API).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_load import LoadPlan, LoadResult, PayloadFactory, load_seed_messages, percentile, run_load  # noqa: E402
from cpu_shares import (  # noqa: E402
    CpuSnapshot,
    Membership,
    cores_used,
    cpu_seconds,
    in_sessions,
    named,
    snapshot,
    this_process,
    titled,
)

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# `python -m intake` from the repository root rather than the `intake` script: it imports the working
# tree's packages even when the virtualenv's editable-install finder is out of date.
INTAKE = [sys.executable, "-m", "intake"]
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/intake_bench_api"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
TARGET_ACCEPTED_PER_SECOND = 300.0
TARGET_P99_MS = 100.0
TARGET_ACK_P99_SECONDS = 2.0
# Acknowledgement states that still have work queued; anything else is final for this benchmark.
UNFINISHED_ACK_STATES = ("pending", "sending", "retry")
WARM_UP_DRAIN_SECONDS = 120


# --- processes --------------------------------------------------------------------------------


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log: IO[bytes]

    @property
    def session(self) -> int:
        return self.popen.pid  # started with start_new_session=True: it leads its own session


@dataclass
class Processes:
    """Subprocesses started by this benchmark, each in its own session so its children stop with it."""

    log_dir: Path
    running: list[ManagedProcess] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> ManagedProcess:
        log = (self.log_dir / f"{name}.log").open("ab")
        popen = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process = ManagedProcess(name, popen, log)
        self.running.append(process)
        return process

    def stop(self, process: ManagedProcess, grace_seconds: float = 15.0) -> None:
        if process.popen.poll() is None:
            _signal_group(process.popen.pid, signal.SIGTERM)
            try:
                process.popen.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                _signal_group(process.popen.pid, signal.SIGKILL)
                process.popen.wait(5)
        # Children that outlived their leader (a work horse mid-job) go too.
        _signal_group(process.popen.pid, signal.SIGKILL)
        process.log.close()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)

    def dead(self) -> list[str]:
        return [f"{p.name} (exit {p.popen.returncode})" for p in self.running if p.popen.poll() is not None]


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def wait_until_healthy(url: str, process: ManagedProcess, timeout_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    last = "no answer"
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(
                f"{process.name} exited with {process.popen.returncode}; see {process.log.name}"
            )
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as error:
            last = type(error).__name__
        time.sleep(0.3)
    raise RuntimeError(f"{process.name} not healthy at {url} after {timeout_seconds:.0f} s: {last}")


# --- set-up: database, Redis, model, token ----------------------------------------------------


def recreate_database(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = url.database
    assert name and name.replace("_", "").isalnum(), f"unexpected database name {name!r}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def flush_redis(redis_url: str) -> None:
    from redis import Redis

    connection = Redis.from_url(redis_url)
    connection.flushdb()
    connection.close()


def intake_environment(args: argparse.Namespace, outbox_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
    env.update(
        INTAKE_DATABASE_URL=args.database_url,
        INTAKE_REDIS_URL=args.redis_url,
        INTAKE_MODEL_DIR=str(args.model_dir.resolve()),
        INTAKE_OUTBOX_DIR=str(outbox_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


def intake_command(env: dict[str, str], *arguments: str) -> str:
    """Run one `intake` CLI command to completion; its stdout."""
    completed = subprocess.run(
        [*INTAKE, *arguments], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    if completed.returncode != 0:
        raise RuntimeError(f"intake {' '.join(arguments)} failed:\n{completed.stderr[-3000:]}")
    return completed.stdout


# --- outcomes in the database -----------------------------------------------------------------


@dataclass
class AcknowledgementOutcome:
    items: int = 0
    unprocessed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)  # sent_at - created_at, per sent acknowledgement
    drain_seconds: float | None = None  # from the end of the load until no work was left; None: timed out
    first_receipt_to_last_send: float = 0.0

    @property
    def sent(self) -> int:
        return len(self.seconds)

    @property
    def sent_per_second(self) -> float:
        return self.sent / self.first_receipt_to_last_send if self.first_receipt_to_last_send else 0.0


def outstanding_work(engine: Engine, id_pattern: str) -> tuple[int, int, int]:
    """(items posted, items not yet processed, acknowledgements still to send) for these items."""
    with engine.connect() as connection:
        items, unprocessed = connection.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE status = 'received') FROM items "
                "WHERE external_id LIKE :pattern"
            ),
            {"pattern": id_pattern},
        ).one()
        unsent = connection.execute(
            text(
                "SELECT count(*) FROM acknowledgements a JOIN items i ON i.id = a.item_id "
                "WHERE i.external_id LIKE :pattern AND a.status = ANY(:states)"
            ),
            {"pattern": id_pattern, "states": list(UNFINISHED_ACK_STATES)},
        ).scalar_one()
    return int(items), int(unprocessed), int(unsent)


def wait_for_drain(
    engine: Engine, id_pattern: str, *, expected_items: int, timeout_seconds: float
) -> float | None:
    """Seconds until every posted item is processed and acknowledged (or finally not); None on time-out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_seconds:
        items, unprocessed, unsent = outstanding_work(engine, id_pattern)
        if items >= expected_items and unprocessed == 0 and unsent == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def acknowledgement_outcome(engine: Engine, id_pattern: str) -> AcknowledgementOutcome:
    outcome = AcknowledgementOutcome()
    with engine.connect() as connection:
        outcome.items, outcome.unprocessed = connection.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE status = 'received') FROM items "
                "WHERE external_id LIKE :pattern"
            ),
            {"pattern": id_pattern},
        ).one()
        rows = connection.execute(
            text(
                "SELECT a.status, count(*) FROM acknowledgements a JOIN items i ON i.id = a.item_id "
                "WHERE i.external_id LIKE :pattern AND a.purpose = 'received' GROUP BY a.status"
            ),
            {"pattern": id_pattern},
        ).all()
        outcome.statuses = {status: int(count) for status, count in rows}
        outcome.seconds = [
            float(value)
            for (value,) in connection.execute(
                text(
                    "SELECT EXTRACT(EPOCH FROM a.sent_at - i.created_at) FROM acknowledgements a "
                    "JOIN items i ON i.id = a.item_id WHERE i.external_id LIKE :pattern "
                    "AND a.purpose = 'received' AND a.sent_at IS NOT NULL"
                ),
                {"pattern": id_pattern},
            )
        ]
        span = connection.execute(
            text(
                "SELECT EXTRACT(EPOCH FROM max(a.sent_at) - min(i.created_at)) FROM acknowledgements a "
                "JOIN items i ON i.id = a.item_id WHERE i.external_id LIKE :pattern AND a.sent_at IS NOT NULL"
            ),
            {"pattern": id_pattern},
        ).scalar_one()
        outcome.first_receipt_to_last_send = float(span or 0.0)
    return outcome


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Phase:
    load: LoadResult
    cores: dict[str, float]  # during the load
    cpu_seconds: dict[str, float]  # during the load; the drain's are added for the intake stack
    ended: CpuSnapshot

    def cpu_ms_per_accepted(self, component: str) -> float:
        return self.cpu_seconds.get(component, 0.0) * 1000 / self.load.accepted if self.load.accepted else 0.0


def components_of(
    api: ManagedProcess, workers: list[ManagedProcess], database: str | None
) -> list[tuple[str, Membership]]:
    """The parts whose CPU time is counted; PostgreSQL only as far as it serves our database."""
    return [
        ("load generator", this_process()),
        ("API processes", in_sessions({api.session})),
        ("rq workers", in_sessions({w.session for w in workers})),
        ("PostgreSQL", titled("postgres", f" {database} ") if database else lambda process: False),
        ("Redis", named("redis-server")),
    ]


def measure(
    plan: LoadPlan, payloads: PayloadFactory, *, label: str, components: list[tuple[str, Membership]]
) -> Phase:
    before = snapshot(components)
    load = run_load(plan, payloads, label=label)
    after = snapshot(components)
    return Phase(
        load=load, cores=cores_used(before, after), cpu_seconds=cpu_seconds(before, after), ended=after
    )


def warm_up(
    args: argparse.Namespace, url: str, headers: dict[str, str], payloads: PayloadFactory
) -> LoadResult | None:
    """A few requests before measuring, so first-request costs (imports, pools) are not counted."""
    if args.warmup_requests <= 0:
        return None
    plan = LoadPlan(
        url=url,
        headers=headers,
        concurrency=min(args.concurrency, 8),
        max_seconds=30,
        max_requests=args.warmup_requests,
    )
    result = run_load(plan, payloads, label="warm-up")
    if result.accepted == 0:
        raise RuntimeError(
            f"warm-up: no request accepted ({dict(result.statuses)}, "
            f"{dict(result.failures)}): {result.first_error_body}"
        )
    return result


def run(args: argparse.Namespace) -> str:
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    work_dir = Path(tempfile.mkdtemp(prefix="bench_api_"))
    outbox_dir, log_dir = work_dir / "outbox", work_dir / "logs"
    outbox_dir.mkdir()
    log_dir.mkdir()
    print(f"logs and outbox in {work_dir}", file=sys.stderr)
    messages = load_seed_messages()
    env = intake_environment(args, outbox_dir)
    load_plan = dict(
        concurrency=args.concurrency,
        max_seconds=args.duration,
        max_requests=args.max_requests,
        rate=args.rate,
    )
    processes = Processes(log_dir)
    completed = False
    try:
        bare: Phase | None = None
        if not args.skip_bare:
            print("bare FastAPI endpoint ...", file=sys.stderr)
            app = processes.start(
                "bare_app",
                [
                    str(BIN / "uvicorn"),
                    "bare_app:app",
                    "--app-dir",
                    str(REPO / "bench"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(args.bare_port),
                    "--workers",
                    str(args.api_workers),
                    "--log-level",
                    "info",
                ],
                env,
            )
            base = f"http://127.0.0.1:{args.bare_port}"
            wait_until_healthy(f"{base}/healthz", app)
            bare_payloads = PayloadFactory(messages, run_id=run_id, id_prefix="b", phone_block=1)
            warm_up(
                args,
                f"{base}/api/v1/items",
                {},
                PayloadFactory(messages, run_id=run_id, id_prefix="bw", phone_block=0),
            )
            bare = measure(
                LoadPlan(url=f"{base}/api/v1/items", headers={}, **load_plan),
                bare_payloads,
                label="bare",
                components=components_of(app, [], None),
            )
            processes.stop(app)

        print("intake: database, model, token ...", file=sys.stderr)
        if not args.keep_database:
            recreate_database(args.database_url)
        flush_redis(args.redis_url)
        intake_command(env, "db", "upgrade")
        intake_command(env, "model", "ensure")
        token_name = f"bench-api-{run_id}"
        token = intake_command(env, "tokens", "create", token_name).strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}"}

        print("intake: serve + workers ...", file=sys.stderr)
        api = processes.start(
            "intake_serve",
            [
                *INTAKE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.intake_port),
                "--workers",
                str(args.api_workers),
            ],
            env,
        )
        # One `intake worker` supervisor forking --processes worker processes (no fork per job).
        workers = [processes.start("intake_worker", [*INTAKE, "worker", "--processes", str(args.workers)], env)]
        base = f"http://127.0.0.1:{args.intake_port}"
        wait_until_healthy(f"{base}/healthz", api)
        engine = create_engine(args.database_url, pool_size=2)
        warm = warm_up(
            args,
            f"{base}/api/v1/items",
            headers,
            PayloadFactory(messages, run_id=run_id, id_prefix="w", phone_block=2),
        )
        if warm is not None:
            # The workers load the model on their first jobs: let that finish before measuring, within
            # reason (a worker that reloads it for every job would never finish 100 of them quickly).
            warm_drain = wait_for_drain(
                engine,
                f"{token_name}:w%",
                expected_items=warm.accepted,
                timeout_seconds=WARM_UP_DRAIN_SECONDS,
            )
            if warm_drain is None:
                print(
                    f"warm-up items not drained after {WARM_UP_DRAIN_SECONDS} s; measuring anyway",
                    file=sys.stderr,
                )

        print(f"intake: {args.duration:.0f} s of load ...", file=sys.stderr)
        components = components_of(api, workers, make_url(args.database_url).database)
        intake = measure(
            LoadPlan(url=f"{base}/api/v1/items", headers=headers, **load_plan),
            PayloadFactory(messages, run_id=run_id, id_prefix="m", phone_block=3),
            label="intake",
            components=components,
        )
        print("intake: waiting for the queue to drain ...", file=sys.stderr)
        pattern = f"{token_name}:m%"
        drain = wait_for_drain(
            engine, pattern, expected_items=intake.load.accepted, timeout_seconds=args.drain_timeout
        )
        # The work the load queued is paid for during the drain too: count its CPU time.
        drained = cpu_seconds(intake.ended, snapshot(components))
        intake.cpu_seconds = {name: used + drained[name] for name, used in intake.cpu_seconds.items()}
        outcome = acknowledgement_outcome(engine, pattern)
        outcome.drain_seconds = drain
        crashed = processes.dead()
        engine.dispose()
        report = render_report(args, bare, intake, outcome, crashed)
        completed = True
        return report
    finally:
        processes.stop_all()
        if completed and not args.keep_files:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"kept {work_dir} (logs, outbox)", file=sys.stderr)


# --- the report -------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "–" if value != value else f"{value:.1f}"


def _seconds(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.2f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render_report(
    args: argparse.Namespace,
    bare: Phase | None,
    intake: Phase,
    outcome: AcknowledgementOutcome,
    crashed: list[str],
) -> str:
    mode = (
        f"paced at {args.rate:.0f} requests/s" if args.rate > 0 else "closed loop (as fast as answers come)"
    )
    lines = [
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python {platform.python_version()}: "
        f"{args.duration:.0f} s per endpoint, {args.concurrency} connections, {mode}, "
        f"{args.api_workers} API processes, {args.workers} rq workers; load average before the run "
        f"{args.load_average_before:.1f}.",
        "",
        "| endpoint | requests | accepted/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, phase in (
        ("bare FastAPI (bench/bare_app.py)", bare),
        ("intake: PostgreSQL + Redis + rq", intake),
    ):
        if phase is None:
            continue
        load = phase.load
        errors = f"{load.errors}" + (f" ({_error_summary(load)})" if load.errors else "")
        lines.append(
            f"| {label} | {load.requests} | {load.accepted_per_second:.0f} | {_ms(load.latency_ms(0.50))} | "
            f"{_ms(load.latency_ms(0.95))} | {_ms(load.latency_ms(0.99))} | "
            f"{_ms(max(load.latencies_ms, default=float('nan')))} | {errors} |"
        )
    statuses = ", ".join(f"{count} {status}" for status, count in sorted(outcome.statuses.items()))
    seconds = outcome.seconds
    lines += [
        "",
        "| receipt → acknowledgement | items | acknowledgements | p50 s | p99 s | max s | drain after load s | sent/s |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
        f"| file outbox, {args.workers} workers | {outcome.items} ({outcome.unprocessed} unprocessed) | {statuses} | "
        f"{_seconds(percentile(seconds, 0.50))} | {_seconds(percentile(seconds, 0.99))} | "
        f"{_seconds(max(seconds, default=float('nan')))} | "
        f"{_seconds(outcome.drain_seconds) if outcome.drain_seconds is not None else 'timed out'} | "
        f"{outcome.sent_per_second:.0f} |",
        "",
        "CPU during the load, in cores (2.0 = the whole machine):",
        "",
        "| phase | " + " | ".join(intake.cores) + " |",
        "|---|" + "---:|" * len(intake.cores),
    ]
    for label, phase in (("bare", bare), ("intake", intake)):
        if phase is not None:
            lines.append(
                f"| {label} | " + " | ".join(f"{phase.cores.get(k, 0.0):.2f}" for k in intake.cores) + " |"
            )
    counted = [name for name in intake.cpu_seconds if name != "load generator"]
    lines += [
        "",
        "CPU time per accepted item, in ms (intake: during the load and the drain, so the workers' "
        "processing is included; PostgreSQL: only the backends serving the benchmark's database):",
        "",
        "| phase | " + " | ".join(counted) + " | total of these |",
        "|---|" + "---:|" * (len(counted) + 1),
    ]
    for label, phase in (("bare", bare), ("intake", intake)):
        if phase is not None:
            per_item = [phase.cpu_ms_per_accepted(name) for name in counted]
            lines.append(
                f"| {label} | "
                + " | ".join(f"{value:.2f}" for value in per_item)
                + f" | {sum(per_item):.2f} |"
            )
    p99_ack = percentile(seconds, 0.99)
    lines += [
        "",
        f"Targets: ≥ {TARGET_ACCEPTED_PER_SECOND:.0f} items/s accepted — "
        f"{_verdict(intake.load.accepted_per_second >= TARGET_ACCEPTED_PER_SECOND)} "
        f"({intake.load.accepted_per_second:.0f}); p99 < {TARGET_P99_MS:.0f} ms — "
        f"{_verdict(intake.load.latency_ms(0.99) < TARGET_P99_MS)} ({_ms(intake.load.latency_ms(0.99))} ms); "
        f"p99 receipt → acknowledgement < {TARGET_ACK_P99_SECONDS:.0f} s — "
        f"{_verdict(p99_ack == p99_ack and p99_ack < TARGET_ACK_P99_SECONDS)} ({_seconds(p99_ack)} s).",
    ]
    if crashed:
        lines += ["", f"Processes that died during the run: {', '.join(crashed)}."]
    return "\n".join(lines) + "\n"


def _error_summary(load: LoadResult) -> str:
    parts = [f"{count}× HTTP {status}" for status, count in load.statuses.items() if status not in (200, 202)]
    parts += [f"{count}× {name}" for name, count in load.failures.items()]
    return ", ".join(parts)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per endpoint")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--api-workers", type=int, default=2, help="API processes (uvicorn --workers)")
    parser.add_argument("--workers", type=int, default=2, help="`intake worker` processes")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="paced requests/s (latency from the scheduled time); 0: closed loop",
    )
    parser.add_argument(
        "--max-requests", type=int, default=200_000, help="upper bound per endpoint (at most 2,000,000)"
    )
    parser.add_argument(
        "--warmup-requests", type=int, default=100, help="posted (and drained) before measuring; not counted"
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="dropped and created again unless --keep-database",
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop and recreate the database")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="this Redis database is flushed")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=REPO / "var" / "models",
        help="reused when it has a current model, else `intake model ensure` trains one",
    )
    parser.add_argument("--intake-port", type=int, default=8765)
    parser.add_argument("--bare-port", type=int, default=8766)
    parser.add_argument("--skip-bare", action="store_true", help="measure only the intake stack")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for the queue")
    parser.add_argument("--markdown-out", type=Path, help="also write the Markdown tables to this file")
    parser.add_argument("--keep-files", action="store_true", help="keep the logs and outbox directory")
    args = parser.parse_args(argv)
    if not 0 < args.max_requests <= 2_000_000:
        parser.error("--max-requests must be between 1 and 2,000,000 (distinct phone numbers per phase)")
    if args.duration <= 0 or args.concurrency < 1 or args.api_workers < 1 or args.workers < 1:
        parser.error("--duration, --concurrency, --api-workers and --workers must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    args.load_average_before = os.getloadavg()[0]  # on a shared machine, say how busy it already was
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        report = run(args)
    except KeyboardInterrupt:
        print("interrupted: every process the benchmark started has been stopped", file=sys.stderr)
        return 130
    print(report)
    if args.markdown_out:
        args.markdown_out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
