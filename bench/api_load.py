"""The load generator behind bench_api.py: N keep-alive connections posting seed messages on loopback.

Bounded in both time and count, and it stops by itself. Closed loop by default (each connection
posts again as soon as it has an answer); with a target rate it paces requests on a fixed schedule
and measures latency from the scheduled time, so a slow server cannot hide its queueing
(no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"
# Mobile numbers 07400 000000–07409 999999: valid UK mobiles, so acknowledgements go by SMS (to the
# file outbox: nothing is sent anywhere).
PHONE_PREFIX = "+44740"
PHONE_SPACE = 10**7
PHONE_BLOCK = 2 * 10**6  # numbers per payload factory: more than any run posts


@dataclass(frozen=True)
class SeedMessage:
    channel: str
    body: str
    subject: str
    sender_kind: str  # "email", "phone" or "none": what kind of address the resident gave
    sender_name: str


def load_seed_messages(seed_dir: Path = SEED_DIR, *, shuffle_seed: int = 7) -> list[SeedMessage]:
    """Every seed message, shuffled once so channels and lengths are mixed through the run."""
    messages: list[SeedMessage] = []
    for path in sorted(seed_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            sender = (row.get("sender") or "").strip()
            kind = "email" if "@" in sender else "phone" if sender else "none"
            messages.append(
                SeedMessage(
                    channel=row["channel"],
                    body=row["body"],
                    subject=row.get("subject") or "",
                    sender_kind=kind,
                    sender_name=row.get("sender_name") or "",
                )
            )
    if not messages:
        raise SystemExit(f"no seed messages in {seed_dir}")
    random.Random(shuffle_seed).shuffle(messages)
    return messages


class PayloadFactory:
    """Request bodies from the seed corpus, each with a unique external id and a unique sender.

    Unique senders keep the run realistic for a landlord (thousands of residents, not 3,050 people
    writing again and again): otherwise the per-sender daily acknowledgement limit would suppress
    most acknowledgements and follow-up linking would join unrelated messages into one case.
    """

    def __init__(self, messages: list[SeedMessage], *, run_id: str, id_prefix: str, phone_block: int) -> None:
        """`phone_block`: a different one per factory in a run, so their phone numbers never overlap."""
        self.messages = messages
        self.run_id = run_id
        self.id_prefix = id_prefix
        self._phone_offset = random.Random(run_id).randrange(PHONE_SPACE) + phone_block * PHONE_BLOCK

    def body(self, index: int) -> bytes:
        message = self.messages[index % len(self.messages)]
        payload: dict[str, Any] = {
            "channel": message.channel,
            "external_id": f"{self.id_prefix}{index}",
            "body": message.body,
            "metadata": {"bench_run": self.run_id},
        }
        if message.subject:
            payload["subject"] = message.subject
        if message.sender_name:
            payload["sender_name"] = message.sender_name
        if message.sender_kind == "email":
            payload["sender"] = f"resident.{self.run_id}.{self.id_prefix}{index}@bench.example"
        elif message.sender_kind == "phone":
            payload["sender"] = f"{PHONE_PREFIX}{(self._phone_offset + index) % PHONE_SPACE:07d}"
        return json.dumps(payload).encode("utf-8")


@dataclass
class LoadResult:
    label: str
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # every answered request
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # connection errors, time-outs
    first_error_body: str | None = None

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.failures.values())

    @property
    def accepted(self) -> int:
        return self.statuses.get(202, 0)

    @property
    def errors(self) -> int:
        return self.requests - self.accepted - self.statuses.get(200, 0)

    @property
    def accepted_per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    def latency_ms(self, share: float) -> float:
        return percentile(self.latencies_ms, share)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


@dataclass(frozen=True)
class LoadPlan:
    url: str
    headers: dict[str, str]
    concurrency: int
    max_seconds: float
    max_requests: int
    rate: float = 0.0  # requests per second; 0 = closed loop, as fast as answers come back
    timeout_seconds: float = 30.0


async def drive(plan: LoadPlan, payloads: PayloadFactory, *, label: str) -> LoadResult:
    """Post until max_seconds or max_requests, whichever comes first; never longer."""
    result = LoadResult(label=label)
    limits = httpx.Limits(max_connections=plan.concurrency, max_keepalive_connections=plan.concurrency)
    next_index = 0
    started = time.perf_counter()
    deadline = started + plan.max_seconds

    def take() -> tuple[int, float] | None:
        nonlocal next_index
        if next_index >= plan.max_requests:
            return None
        index = next_index
        scheduled = started + index / plan.rate if plan.rate > 0 else time.perf_counter()
        if scheduled >= deadline or time.perf_counter() >= deadline:
            return None
        next_index += 1
        return index, scheduled

    async def connection(client: httpx.AsyncClient) -> None:
        while (taken := take()) is not None:
            index, scheduled = taken
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            send_at = scheduled if plan.rate > 0 else time.perf_counter()
            try:
                response = await client.post(plan.url, content=payloads.body(index))
            except httpx.HTTPError as error:
                result.failures[type(error).__name__] += 1
                continue
            result.latencies_ms.append((time.perf_counter() - send_at) * 1000)
            result.statuses[response.status_code] += 1
            if response.status_code not in (200, 202) and result.first_error_body is None:
                result.first_error_body = f"{response.status_code}: {response.text[:300]}"

    headers = {"Content-Type": "application/json", **plan.headers}
    async with httpx.AsyncClient(limits=limits, timeout=plan.timeout_seconds, headers=headers) as client:
        await asyncio.gather(*(connection(client) for _ in range(plan.concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def run_load(plan: LoadPlan, payloads: PayloadFactory, *, label: str) -> LoadResult:
    """Run `drive` on uvloop when it is installed (it leaves more of the CPU to the servers)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(drive(plan, payloads, label=label))
    return uvloop.run(drive(plan, payloads, label=label))
