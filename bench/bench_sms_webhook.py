"""SMS webhook benchmark: signed inbound-text webhooks from a load generator on loopback against a
real `intake serve` (uvicorn) process, with the Twilio stand-in taking the acknowledgements.

    # SQLite, the embedded default: `intake serve` and the worker process it starts (database queue)
    .venv/bin/python bench/bench_sms_webhook.py --mode sqlite --requests 2000 --concurrency 8
    # PostgreSQL + Redis + `intake worker --processes 2`
    .venv/bin/python bench/bench_sms_webhook.py --mode postgres --requests 2000 --concurrency 8 --workers 2

In the same run and with the same load, the bare app (bench/bare_app.py: a FastAPI route that reads
the form and answers TwiML, nothing else) is measured as the reference, once before the product and
once after: the product's figures are reported as a ratio to the mean of the two, so they survive a
change of machine and of load, and a shared host that speeds up or slows down during the run moves
the reference with the product instead of against it (`--skip-bare`: no reference).

Each webhook is form-encoded exactly as Twilio sends it, signed with the real `RequestValidator`,
from its own mobile number, with a text from the seed corpus. Measured: requests per second and the
p50/p99 latency of the webhook answer (Twilio gives up after 15 s; the aim is p99 under 50 ms), and
receipt → acknowledgement: from sending the webhook to the stand-in receiving the SMS the real
`twilio` client sends. Closed loop by default (each connection sends again when answered); with
`--rate` requests are paced on a fixed schedule and latency counts from the scheduled time.
Every process it starts is stopped on exit. Figures go in docs/benchmarks.md (## SMS webhooks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import httpx
from twilio.request_validator import RequestValidator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_db import HISTORY_ON_POSTGRES, WARMUP_ON_SQLITE, analyze, recreate_postgres  # noqa: E402  (beside this script)
from cpu_shares import Membership, cpu_seconds, in_sessions, named, snapshot  # noqa: E402  (beside this script)
from standin_process import StandInProcess  # noqa: E402  (beside this script)

from channels.sms_keywords import keyword_of  # noqa: E402

INTAKE = [sys.executable, "-m", "intake"]
ACCOUNT_SID = "AC" + "be" * 16
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
LANDLORD_NUMBER = "+447480000001"
PUBLIC_BASE_URL = "https://intake.bench.example"
SMS_PATH = "/webhooks/twilio/sms"
# BENCH_DB_PREFIX: another name for the database this recreates, so two people's runs on one
# PostgreSQL never drop each other's (e.g. BENCH_DB_PREFIX=pipeline_speed_bench).
DEFAULT_POSTGRES_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{os.environ.get('BENCH_DB_PREFIX', 'intake_bench')}_sms"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
TARGET_P99_MS = 50.0


# --- the load --------------------------------------------------------------------------------


@dataclass
class Sent:
    sender: str
    started: float  # monotonic: when it was sent (or scheduled, with --rate)
    latency: float  # seconds until the answer
    status: int


@dataclass
class LoadResult:
    sent: list[Sent] = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0  # the load generator's own CPU time (this process, all threads)


def seed_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted((REPO / "data" / "seed").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                # Keyword texts (STOP, HELP) and junk (spam, one-time codes) get no acknowledgement,
                # and the run waits for one per webhook: residents' texts only.
                if (
                    row.get("channel") == "sms"
                    and row.get("body")
                    and not keyword_of(row["body"])
                    and row.get("type") != "junk"
                    and row.get("queue") != "not_for_triage"
                ):
                    texts.append(row["body"])
    if not texts:
        raise SystemExit("no SMS texts in data/seed/*.jsonl")
    random.Random(5).shuffle(texts)
    return texts


def signed_webhook(body: str, sender: str, number: int) -> tuple[bytes, dict[str, str]]:
    sid = f"SM{number:032x}"
    form = {
        "ToCountry": "GB",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "FromCountry": "GB",
        "To": LANDLORD_NUMBER,
        "NumSegments": str(max(1, -(-len(body) // 153))),
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + SMS_PATH, form)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return urlencode(form).encode(), headers


# The load generator's HTTP client. With httpx the generator took about 1.8 ms of CPU a request
# (0.32 of a core at 150/s for generator and stand-in, the stand-in 0.05 of it), CPU the product it
# paces then did not get on 2 shared cores; with aiohttp, 0.5-0.7 ms (docs/benchmarks.md, ninth
# session). Closed-loop runs keep httpx, with which every ratio to the bare app since issue 14 was
# measured, unless asked otherwise.
CLIENTS = ("httpx", "aiohttp")


def client_for(choice: str, rate: float) -> str:
    if choice != "auto":
        return choice
    return "aiohttp" if rate > 0 else "httpx"


async def run_load(
    base_url: str,
    *,
    requests: int,
    concurrency: int,
    rate: float,
    first_number: int,
    texts: list[str],
    client: str = "httpx",
) -> LoadResult:
    """Send `requests` webhooks, each from a new mobile number (07400 2xxxxx, valid UK mobiles)."""
    prepared = [
        (
            sender := f"+4474002{first_number + i:05d}",
            *signed_webhook(texts[i % len(texts)], sender, first_number + i),
        )
        for i in range(requests)
    ]
    result = LoadResult()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(requests):
        queue.put_nowait(index)
    cpu_before = time.process_time()
    begin = time.monotonic()

    async def connection(post: Callable[[bytes, dict[str, str]], Awaitable[int]]) -> None:
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            sender, content, headers = prepared[index]
            started = time.monotonic()
            if rate > 0:  # open loop: latency counts from when it should have been sent
                started = begin + index / rate
                await asyncio.sleep(max(0.0, started - time.monotonic()))
            status = await post(content, headers)
            result.sent.append(Sent(sender, started, time.monotonic() - started, status))

    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive timeout: with both at
    # 5 s (httpx's default) a connection idle that long could be reused just as the server closed
    # it, and the run died of a read error on a webhook the server never saw.
    if client == "aiohttp":
        connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=2.0)
        timeout = aiohttp.ClientTimeout(total=30.0)
        async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:

            async def post_aiohttp(content: bytes, headers: dict[str, str]) -> int:
                async with session.post(SMS_PATH, data=content, headers=headers) as response:
                    await response.read()
                    return response.status

            await asyncio.gather(*(connection(post_aiohttp) for _ in range(concurrency)))
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as http:

            async def post_httpx(content: bytes, headers: dict[str, str]) -> int:
                return (await http.post(SMS_PATH, content=content, headers=headers)).status_code

            await asyncio.gather(*(connection(post_httpx) for _ in range(concurrency)))
    result.wall_seconds = time.monotonic() - begin
    result.cpu_seconds = time.process_time() - cpu_before
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Processes:
    log_dir: Path
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.running):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self.running.clear()


def process_cpu_seconds(pid: int) -> float | None:
    """CPU (user + system) the process `pid` has used so far, its threads included; None off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def cpu_ms_per_request(pid: int, before: float | None, requests: int) -> float | None:
    """The API process's CPU per request over the measured load: unlike requests/s, it hardly
    depends on what else the machine is running, so runs at different loads compare."""
    after = process_cpu_seconds(pid)
    if before is None or after is None or not requests:
        return None
    return round((after - before) / requests * 1000, 2)


SERVE_APPLICATION_NAME = "intake-serve-bench"


def serve_backends_cpu(database_url: str) -> dict[int, float]:
    """PostgreSQL: CPU seconds so far of each backend serving `intake serve`'s connections (by the
    application name its environment gives libpq), read from /proc (the server is on this machine)."""
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as connection:
        pids = [
            row[0]
            for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (SERVE_APPLICATION_NAME,)
            )
        ]
    return {pid: cpu for pid in pids if (cpu := process_cpu_seconds(pid)) is not None}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout_seconds: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"intake serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            # Healthy, and still ours: another server already on the port would answer too.
            if httpx.get(url, timeout=2).status_code == 200 and process.poll() is None:
                time.sleep(0.5)
                if process.poll() is None:
                    return
        time.sleep(0.3)
    raise RuntimeError(f"intake serve not healthy at {url}")


def intake_environment(args: argparse.Namespace, work: Path, twilio_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
    if args.worker_niceness is not None:
        env["INTAKE_WORKER_NICENESS"] = str(args.worker_niceness)
    if args.worker_gather_seconds is not None:
        env["INTAKE_WORKER_GATHER_SECONDS"] = str(args.worker_gather_seconds)
    env.update(
        INTAKE_DATABASE_URL=args.database_url,
        INTAKE_MODEL_DIR=str(args.model_dir.resolve()),
        INTAKE_OUTBOX_DIR=str(work / "outbox"),
        INTAKE_PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        INTAKE_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        INTAKE_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        INTAKE_TWILIO_FROM_NUMBER=LANDLORD_NUMBER,
        INTAKE_TWILIO_API_BASE_URL=twilio_url,
        PYTHONUNBUFFERED="1",
    )
    if args.mode == "postgres":
        env["INTAKE_REDIS_URL"] = args.redis_url
    return env


def run_command(env: dict[str, str], *arguments: str) -> None:
    completed = subprocess.run(
        [*INTAKE, *arguments], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800
    )
    if completed.returncode != 0:
        raise RuntimeError(f"intake {' '.join(arguments)} failed:\n{completed.stderr[-3000:]}")


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="webhooks sent (and processed) first and not counted; on PostgreSQL the database is then "
        f"analyzed (default: {HISTORY_ON_POSTGRES} on PostgreSQL, a history; {WARMUP_ON_SQLITE} on SQLite)",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s, open loop; 0: closed loop")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="`intake worker` processes (postgres mode; 0 in either mode: the request path alone, nothing "
        "processed — on SQLite `intake serve --job-workers 0`)",
    )
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn processes (postgres mode)")
    parser.add_argument(
        "--worker-niceness",
        type=int,
        default=None,
        help="INTAKE_WORKER_NICENESS for the worker processes (default: the product's, 10)",
    )
    parser.add_argument(
        "--worker-gather-seconds",
        type=float,
        default=None,
        help="INTAKE_WORKER_GATHER_SECONDS for the rq workers (default: the product's)",
    )
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--model-dir", type=Path, default=REPO / "var" / "models")
    parser.add_argument("--ack-timeout", type=float, default=600.0)
    parser.add_argument(
        "--provider-latency-ms",
        type=float,
        default=0.0,
        help="how long the Twilio stand-in takes to answer each text, as Twilio's API over the internet "
        "(0: as fast as it can, the product's own cost)",
    )
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument(
        "--latencies-out",
        type=Path,
        default=None,
        help="the product's measured webhooks, one line each: seconds since the first was sent, latency (ms)",
    )
    parser.add_argument("--skip-bare", action="store_true", help="do not measure the bare app first")
    parser.add_argument(
        "--client",
        choices=("auto", *CLIENTS),
        default="auto",
        help="the load generator's HTTP client (auto: aiohttp when paced by --rate, else httpx)",
    )
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = HISTORY_ON_POSTGRES if args.mode == "postgres" else WARMUP_ON_SQLITE

    work = Path(tempfile.mkdtemp(prefix="bench_sms_"))
    if args.database_url is None:
        args.database_url = f"sqlite:///{work}/intake.db" if args.mode == "sqlite" else DEFAULT_POSTGRES_URL
    if args.mode == "postgres":
        recreate_postgres(args.database_url)
        from redis import Redis

        Redis.from_url(args.redis_url).flushdb()
    processes = Processes(work)
    port = args.port or free_port()
    signal.signal(signal.SIGTERM, _interrupt)
    api_workers = args.api_workers if args.mode == "postgres" else 1
    bare = None if args.skip_bare else measure_bare(args, work, api_workers)
    with StandInProcess(ACCOUNT_SID, AUTH_TOKEN, latency_seconds=args.provider_latency_ms / 1000) as twilio:
        env = intake_environment(args, work, twilio.url)
        try:
            run_command(env, "model", "ensure")
            run_command(env, "db", "upgrade")
            server = processes.start(
                "serve",
                [
                    *INTAKE,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(api_workers),
                    *(["--job-workers", "0"] if args.mode == "sqlite" and args.workers == 0 else []),
                ],
                # libpq names the API's connections: their backends' CPU is the request path's.
                {**env, "PGAPPNAME": SERVE_APPLICATION_NAME},
            )
            sessions = {"intake serve": server.pid}
            if args.mode == "postgres" and args.workers > 0:
                worker = processes.start("worker", [*INTAKE, "worker", "--processes", str(args.workers)], env)
                sessions["intake worker"] = worker.pid
            base_url = f"http://127.0.0.1:{port}"
            wait_until_healthy(base_url + "/healthz", server)
            report = measure(args, base_url, twilio, server.pid, sessions)
        finally:
            processes.stop_all()
    if bare is not None:
        # before and after the product (A-B-A): the reference is read around the run it judges
        bare_after = measure_bare(args, work, api_workers)
        reference = (float(bare["requests_per_second"]) + float(bare_after["requests_per_second"])) / 2
        report["bare"] = bare
        report["bare_after"] = bare_after
        report["bare_requests_per_second"] = round(reference, 1)
        report["ratio_to_bare"] = round(report["requests_per_second"] / reference, 2)
    report.update(
        mode=args.mode,
        concurrency=args.concurrency,
        rate=args.rate or None,
        workers=args.workers if args.mode == "postgres" else min(args.workers, 1),  # sqlite: the one `intake serve` starts, or none
        api_workers=api_workers,
        provider_latency_ms=args.provider_latency_ms,
        cpus=os.cpu_count(),
        python=platform.python_version(),
        logs=str(work),
    )
    print(json.dumps(report, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")


def measure_bare(args: argparse.Namespace, work: Path, api_workers: int) -> dict[str, object]:
    """The same load against bench/bare_app.py, served the same way: the reference of this run."""
    processes = Processes(work)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
    try:
        server = processes.start(
            "bare",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.bare_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(api_workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env,
        )
        base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(base_url + "/healthz", server)
        texts = seed_texts()
        load_before = os.getloadavg()
        asyncio.run(
            run_load(base_url, requests=WARMUP_ON_SQLITE, concurrency=4, rate=0, first_number=0, texts=texts)
        )
        cpu_before = process_cpu_seconds(server.pid)
        load = asyncio.run(
            run_load(
                base_url,
                requests=args.requests,
                concurrency=args.concurrency,
                rate=args.rate,
                first_number=args.warmup,
                texts=texts,
                client=client_for(args.client, args.rate),
            )
        )
        api_cpu_ms = cpu_ms_per_request(server.pid, cpu_before, len(load.sent))
    finally:
        processes.stop_all()
    latencies = [s.latency for s in load.sent]
    return {
        "requests": len(load.sent),
        "statuses": dict(Counter(s.status for s in load.sent)),
        "requests_per_second": round(len(load.sent) / load.wall_seconds, 1),
        "webhook_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 1),
            "p90": round(percentile(latencies, 0.90) * 1000, 1),
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "api_cpu_ms_per_webhook": api_cpu_ms,
        "load_average": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
    }


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # so `finally` stops every process we started


QUIET_SECONDS = 20.0


def wait_for_acknowledgements(twilio: StandInProcess, count: int, *, timeout: float) -> None:
    """Until `count` texts arrived, or — once texts are flowing — none for QUIET_SECONDS: the queue
    has drained and the rest get none by design (a text the model calls junk is not acknowledged;
    the report counts how many were)."""
    deadline = time.monotonic() + timeout
    seen, changed = -1, time.monotonic()
    while time.monotonic() < deadline:
        got = twilio.count_messages_within(count, timeout=min(1.0, max(deadline - time.monotonic(), 0.0)))
        if got >= count:
            return
        if got != seen:
            seen, changed = got, time.monotonic()
        elif got > 0 and time.monotonic() - changed > QUIET_SECONDS:
            return


def product_components(args: argparse.Namespace, sessions: dict[str, int]) -> list[tuple[str, Membership]]:
    """The product's processes, by component, for `cpu_shares.snapshot`: `intake serve` and `intake
    worker` (each the session it was started in: its uvicorn or worker children, the embedded worker),
    and on PostgreSQL + Redis every process of both servers — backends and background writers alike;
    nothing else should be using them while a benchmark runs."""
    components: list[tuple[str, Membership]] = [(name, in_sessions({pid})) for name, pid in sessions.items()]
    if args.mode == "postgres":
        components += [("postgresql", named("postgres")), ("redis", named("redis-server"))]
    return components


def measure(
    args: argparse.Namespace, base_url: str, twilio: StandInProcess, server_pid: int, sessions: dict[str, int]
) -> dict[str, object]:
    texts = seed_texts()
    load_before = os.getloadavg()
    # Warm-up: loads the model (in-process mode) and fills connection pools; not counted.
    warm = asyncio.run(
        run_load(base_url, requests=args.warmup, concurrency=4, rate=0, first_number=0, texts=texts)
    )
    if args.workers > 0:
        wait_for_acknowledgements(twilio, len(warm.sent), timeout=args.ack_timeout)
    if args.mode == "postgres":
        analyze(args.database_url)
    already = len(twilio.messages)
    requests_before = twilio.request_count()
    cpu_before = process_cpu_seconds(server_pid)  # the API process (`intake serve`; its worker is another)
    backends_before = serve_backends_cpu(args.database_url) if args.mode == "postgres" else {}
    components = product_components(args, sessions)
    product_before = snapshot(components)
    load = asyncio.run(
        run_load(
            base_url,
            requests=args.requests,
            concurrency=args.concurrency,
            rate=args.rate,
            first_number=args.warmup,
            texts=texts,
            client=client_for(args.client, args.rate),
        )
    )
    answered = time.monotonic()
    if args.latencies_out and load.sent:  # where in the run the slow answers were
        first = min(sent.started for sent in load.sent)
        args.latencies_out.write_text(
            "".join(f"{sent.started - first:.4f} {sent.latency * 1000:.1f}\n" for sent in sorted(load.sent, key=lambda s: s.started))
        )
    api_cpu_ms = cpu_ms_per_request(server_pid, cpu_before, len(load.sent))
    backends_cpu_ms = None
    if args.mode == "postgres" and load.sent:  # a backend that began during the load counts from 0
        backends_after = serve_backends_cpu(args.database_url)
        used = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends_after.items())
        backends_cpu_ms = round(used / len(load.sent) * 1000, 2)
    processing = args.workers > 0
    if processing:  # with no worker nothing is processed: the run measures the webhook alone
        wait_for_acknowledgements(twilio, already + len(load.sent), timeout=args.ack_timeout)
    drained = time.monotonic() - answered
    # Every process of the product, from the first webhook until the last acknowledgement went (the
    # issue's "CPU per item, all processes"), by component; with no worker, the request path's.
    product_cpu = cpu_seconds(product_before, snapshot(components))
    first_text_at: dict[str, float] = {}
    for request in twilio.messages:
        first_text_at.setdefault(request.form.get("To", ""), request.at)
    to_ack = [first_text_at[s.sender] - s.started for s in load.sent if s.sender in first_text_at]
    latencies = [s.latency for s in load.sent]
    return {
        "requests": len(load.sent),
        "statuses": dict(Counter(s.status for s in load.sent)),
        "wall_seconds": round(load.wall_seconds, 2),
        "requests_per_second": round(len(load.sent) / load.wall_seconds, 1),
        "webhook_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 1),
            "p90": round(percentile(latencies, 0.90) * 1000, 1),
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "p99_under_target": percentile(latencies, 0.99) * 1000 < TARGET_P99_MS,
        "api_cpu_ms_per_webhook": api_cpu_ms,
        "api_postgres_backends_cpu_ms_per_webhook": backends_cpu_ms,
        "product_cpu_ms_per_item": round(sum(product_cpu.values()) / len(load.sent) * 1000, 2) if load.sent else None,
        "product_cpu_ms_per_item_by_component": {
            name: round(used / len(load.sent) * 1000, 2) for name, used in product_cpu.items()
        }
        if load.sent
        else None,
        "acknowledged": len(to_ack),
        "receipt_to_ack_seconds": {
            "p50": round(percentile(to_ack, 0.50), 3),
            "p99": round(percentile(to_ack, 0.99), 3),
            "max": round(max(to_ack), 3) if to_ack else None,
        },
        "drain_after_last_answer_seconds": round(drained, 2) if processing else None,
        # The machine's load average before and after: other processes share these CPUs.
        "load_average": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        "twilio_requests": twilio.request_count() - requests_before,
        "load_generator": {
            "client": client_for(args.client, args.rate),
            "cpu_ms_per_request": round(load.cpu_seconds / len(load.sent) * 1000, 2) if load.sent else None,
        },
    }


if __name__ == "__main__":
    main()
