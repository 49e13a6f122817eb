"""A large synthetic history for the reports benchmark, written with PostgreSQL COPY.

Three years of items (1 October 2023 – 30 September 2026) with the rows the reports read: deadlines
(some superseded by extensions and reopenings), acknowledgements (received, complaint, stage_2),
audit entries (two per item, plus became_complaint / extended / reopened), corrections. The mix is
roughly a large landlord's: a fifth complaints, one in eight escalated, follow-ups on open cases.
Deterministic for a given seed. Used by bench/bench_reports.py; not a test fixture.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST_DAY = datetime(2023, 10, 1, tzinfo=UTC)
LAST_DAY = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 10, 14, 11, 0, tzinfo=UTC)
MODEL = "bench-1"

TYPES = [
    ("complaint", 22),
    ("service_request", 45),
    ("enquiry", 22),
    ("compliment", 5),
    ("suggestion", 4),
    (None, 2),
]
CHANNELS = [("email", 50), ("sms", 20), ("web_form", 20), ("call_transcript", 10)]
QUEUES = {
    "complaint": "complaints",
    "service_request": "service_requests",
    "enquiry": "enquiries",
    "compliment": "compliments",
    "suggestion": "suggestions",
    None: "triage_review",
}
CATEGORIES = [
    "delay",
    "failure_to_provide",
    "poor_quality",
    "inappropriate_service",
    "service_withdrawn",
    "cost",
    "staff_behaviour",
    "policy",
    "discrimination",
]
OUTCOMES = {
    "complaint": ["upheld", "partly upheld", "not upheld", "withdrawn"],
    "service_request": ["completed", "no action needed"],
    "enquiry": ["answered"],
    "compliment": ["passed on"],
    "suggestion": ["considered"],
    None: ["answered"],
}
ITEM_COLUMNS = (
    "id",
    "reference",
    "channel",
    "external_id",
    "received_at",
    "created_at",
    "updated_at",
    "subject",
    "body",
    "sender_address",
    "case_id",
    "headers",
    "thread_keys",
    "details",
    "status",
    "case_status",
    "type",
    "categories",
    "flags",
    "hazards",
    "queue",
    "confidence",
    "model_version",
    "explanation",
    "complaint_stage",
    "stage_started_at",
    "outcome",
    "closed_at",
    "next_due_at",
)
DEADLINE_COLUMNS = (
    "item_id",
    "kind",
    "stage",
    "due_at",
    "basis",
    "policy",
    "created_at",
    "met_at",
    "superseded_at",
)
ACK_COLUMNS = (
    "item_id",
    "purpose",
    "channel",
    "recipient",
    "body_text",
    "status",
    "attempts",
    "created_at",
    "sent_at",
)
AUDIT_COLUMNS = ("at", "actor", "action", "item_id", "details")
CORRECTION_COLUMNS = ("item_id", "corrected_by", "before", "after", "created_at")
BODY = (
    "Hello, I am writing about the repair to the kitchen ceiling at my flat. Someone came last month but the "
    "stain is back and the plaster is soft. Please can you let me know what happens next. Thank you."
)


def _weighted(rng: random.Random, table: list[tuple[Any, int]]) -> Any:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(days=rng.uniform(low, high))


@dataclass
class Rows:
    items: list[tuple[Any, ...]] = field(default_factory=list)
    deadlines: list[tuple[Any, ...]] = field(default_factory=list)
    acknowledgements: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)
    corrections: list[tuple[Any, ...]] = field(default_factory=list)

    def clear(self) -> None:
        for rows in (self.items, self.deadlines, self.acknowledgements, self.audit, self.corrections):
            rows.clear()


def generate(total: int, *, seed: int = 7, batch: int = 50_000) -> Iterator[Rows]:
    """Rows in batches of about `batch` items, ids 1..total in order of receipt."""
    rng = random.Random(seed)
    span = (LAST_DAY - FIRST_DAY).total_seconds()
    moments = sorted(rng.random() for _ in range(total))
    rows = Rows()
    roots_open: list[int] = []  # recent roots a follow-up may join
    for number, fraction in enumerate(moments, start=1):
        received = FIRST_DAY + timedelta(seconds=fraction * span)
        if roots_open and rng.random() < 0.08:
            _follow_up(rng, rows, number, received, rng.choice(roots_open[-2000:]))
        else:
            _root(rng, rows, number, received)
            roots_open.append(number)
        if number % batch == 0:
            yield rows
            rows = Rows()
    if rows.items:
        yield rows


def _item_row(number: int, received: datetime, **values: Any) -> tuple[Any, ...]:
    row = {
        "id": number,
        "reference": None,
        "channel": "email",
        "external_id": f"bench-{number}",
        "received_at": received,
        "created_at": received,
        "updated_at": received,
        "subject": "Repair",
        "body": BODY,
        "sender_address": f"resident{number % 50_000}@example.com",
        "case_id": None,
        "headers": "{}",
        "thread_keys": "[]",
        "details": "{}",
        "status": "processed",
        "case_status": "open",
        "type": None,
        "categories": "[]",
        "flags": "[]",
        "hazards": "[]",
        "queue": None,
        "confidence": 0.9,
        "model_version": MODEL,
        "explanation": "{}",
        "complaint_stage": None,
        "stage_started_at": None,
        "outcome": None,
        "closed_at": None,
        "next_due_at": None,
    }
    row.update(values)
    return tuple(row[column] for column in ITEM_COLUMNS)


def _follow_up(rng: random.Random, rows: Rows, number: int, received: datetime, root: int) -> None:
    rows.items.append(
        _item_row(
            number,
            received,
            channel=_weighted(rng, CHANNELS),
            case_id=root,
            type="enquiry",
            queue="complaints",
        )
    )
    rows.audit.append((received, "system", "received", number, "{}"))


def _root(rng: random.Random, rows: Rows, number: int, received: datetime) -> None:
    item_type = _weighted(rng, TYPES)
    channel = _weighted(rng, CHANNELS)
    flags: list[str] = []
    queue = QUEUES[item_type]
    if rng.random() < 0.02:
        flags.append("urgent_safety")
        queue = "emergency"
    elif rng.random() < 0.03:
        flags.append("designated_person")
        queue = "formal_enquiries"
    became_complaint = item_type == "service_request" and rng.random() < 0.03
    complaint = item_type == "complaint" or became_complaint
    categories = rng.sample(CATEGORIES, rng.choice((1, 1, 2))) if complaint else []
    age = (NOW - received).days
    closed = age > 45 and rng.random() < 0.96 or (age > 10 and rng.random() < 0.5)
    closed_at = received + _days(rng, 2, 40) if closed else None
    if closed_at is not None and closed_at > NOW:
        closed_at = None
    outcome = rng.choice(OUTCOMES["complaint" if complaint else item_type]) if closed_at else None
    details: dict[str, Any] = {}
    if outcome in ("upheld", "partly upheld") and rng.random() < 0.6:
        details["remedy"] = f"£{rng.choice((25, 50, 100, 250))} compensation"
    stage = None
    if complaint:
        stage = "stage_2" if rng.random() < 0.13 and age > 30 else "stage_1"
    rows.items.append(
        _item_row(
            number,
            received,
            channel=channel,
            type="complaint" if complaint else item_type,
            queue=queue,
            categories=json.dumps(categories),
            flags=json.dumps(flags),
            details=json.dumps(details),
            case_status="closed" if closed_at else "open",
            closed_at=closed_at,
            outcome=outcome,
            complaint_stage=stage,
            stage_started_at=received if stage else None,
            model_version=MODEL if item_type is not None else None,
        )
    )
    rows.audit.append((received, "system", "received", number, "{}"))
    rows.audit.append((received + timedelta(seconds=5), "worker", "processed", number, "{}"))
    acknowledged = received + timedelta(minutes=rng.uniform(1, 5))
    callback = channel == "call_transcript" and rng.random() < 0.5
    rows.acknowledgements.append(
        (
            number,
            "received",
            "none" if callback else "email",
            None,
            "",
            "needs_callback" if callback else "sent",
            0 if callback else 1,
            received + timedelta(seconds=6),
            None if callback else acknowledged,
        )
    )
    if "urgent_safety" in flags:
        rows.deadlines.append(
            (
                number,
                "make_safe",
                None,
                received + timedelta(hours=24),
                "bench",
                "awaabs-law",
                received,
                received + timedelta(hours=rng.uniform(1, 30)),
                None,
            )
        )
    if rng.random() < 0.03 and item_type is not None:
        before = {
            "type": rng.choice(["complaint", "enquiry", "service_request"]),
            "categories": [],
            "flags": [],
        }
        after = {"type": "complaint" if complaint else item_type, "categories": categories, "flags": flags}
        rows.corrections.append(
            (number, "manager", json.dumps(before), json.dumps(after), received + _days(rng, 0, 3))
        )
    if complaint:
        _complaint(rng, rows, number, received, closed_at, stage, became_complaint, callback)
    elif item_type == "enquiry":
        met = acknowledged if rng.random() < 0.95 else None
        rows.deadlines.append(
            (number, "acknowledge", None, received + timedelta(days=7), "bench", "bench", received, met, None)
        )


def _complaint(
    rng: random.Random,
    rows: Rows,
    number: int,
    received: datetime,
    closed_at: datetime | None,
    stage: str | None,
    became_complaint: bool,
    callback: bool,
) -> None:
    start = received
    if became_complaint:
        start = received + _days(rng, 1, 20)
        rows.acknowledgements.append(
            (number, "complaint", "email", None, "", "sent", 1, start, start + timedelta(minutes=2))
        )
        rows.audit.append(
            (
                start,
                "worker",
                "became_complaint",
                number,
                json.dumps({"trigger_item": number, "stage": "stage_1", "before": "service_request"}),
            )
        )
    acknowledged = (
        None
        if callback and rng.random() < 0.3
        else start + (timedelta(minutes=3) if not callback else _days(rng, 0.5, 8))
    )
    rows.deadlines.append(
        (
            number,
            "acknowledge",
            "stage_1",
            start + timedelta(days=7),
            "bench",
            "bench",
            start,
            acknowledged if acknowledged and acknowledged < NOW else None,
            None,
        )
    )
    respond_due = start + timedelta(days=16)
    responded = start + _days(rng, 3, 24)
    if responded > NOW or (closed_at is None and stage == "stage_1" and rng.random() < 0.5):
        responded = None
    if rng.random() < 0.05:  # an agreed extension: the first response date is superseded
        extended = start + _days(rng, 5, 10)
        rows.deadlines.append(
            (number, "respond", "stage_1", respond_due, "bench", "bench", start, None, extended)
        )
        rows.deadlines.append(
            (number, "holding_response", "stage_1", respond_due, "bench", "bench", extended, None, None)
        )
        respond_due += timedelta(days=12)
        rows.audit.append(
            (
                extended,
                "staff",
                "extended",
                number,
                json.dumps({"stage": "stage_1", "until": respond_due.isoformat(), "reason": "complex"}),
            )
        )
    superseded = None
    if stage == "stage_2" and responded is not None:
        superseded = responded + _days(rng, 3, 15)
        if superseded > NOW:
            superseded = None
    rows.deadlines.append(
        (number, "respond", "stage_1", respond_due, "bench", "bench", start, responded, superseded)
    )
    if responded is not None and rng.random() < 0.03:  # reopened later
        reopened = responded + _days(rng, 5, 20)
        if reopened < NOW:
            rows.audit.append((reopened, "staff", "reopened", number, "{}"))
            rows.deadlines.append(
                (
                    number,
                    "respond",
                    "stage_1",
                    reopened + timedelta(days=14),
                    "bench",
                    "bench",
                    reopened,
                    None,
                    None,
                )
            )
    if superseded is not None:
        escalated = superseded
        rows.acknowledgements.append(
            (number, "stage_2", "email", None, "", "sent", 1, escalated, escalated + timedelta(minutes=2))
        )
        rows.deadlines.append(
            (
                number,
                "acknowledge",
                "stage_2",
                escalated + timedelta(days=7),
                "bench",
                "bench",
                escalated,
                escalated + timedelta(minutes=2),
                None,
            )
        )
        answered = escalated + _days(rng, 5, 40)
        rows.deadlines.append(
            (
                number,
                "respond",
                "stage_2",
                escalated + timedelta(days=28),
                "bench",
                "bench",
                escalated,
                answered if answered < NOW else None,
                None,
            )
        )
