"""A quarter at a landlord, simulated: every date a person sees is checked after every day.

    python -m bench.simulate_quarter                    # 3,000 messages, SQLite in a temp folder
    python -m bench.simulate_quarter --messages 600 --database postgresql://127.0.0.1:5432/test

Messages are drawn from the seed corpus (all four channels) and arrive over a quarter — mostly in
working hours, some in the evening, at weekends and on bank holidays; a share arrives late through
the API (a `received_at` days or weeks in the past: an integration catching up). People write again
(chasers, follow-ups), and some share a phone or an email address with someone else. Each working
afternoon the staff work the queues: they call back residents who cannot take texts, make hazards
safe and inspect them, correct what the classifier held for review, answer, extend, escalate,
close and reopen cases, and take out of a case a message a shared phone put there wrongly.

After every simulated day `check_day` checks the invariants of issue 12 (see docs/lifecycle.md);
a violation is recorded with the day and the item, and the run fails when there is any. The same
engine runs in `make test` (tests/lifecycle/test_quarter.py) with fewer messages.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from channels.message import InboundMessage
from intake import case_links, cases, deadlines
from intake.cases import NARROW_CASE_TYPES
from intake.corrections import correct_item
from intake.errors import InvalidMessage, InvalidTransition
from intake.pipeline import ingest
from intake.reports import queries
from intake.reports.periods import custom_period
from intake.reports.service import build_view
from intake.runtime import Runtime
from intake.web.queue_view import QueueFilters, due_counts, queue_page
from models import Acknowledgement, AuditEntry, Deadline, Item

LONDON = ZoneInfo("Europe/London")
SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"
CHASERS = (
    "any news on this? nobody has been in touch",
    "this is the third time i have asked about this and still nothing. not good enough",
    "Hi, just chasing my message from last week, can someone let me know what is happening please",
    "still waiting, this is ridiculous, i want to make a complaint about how long this is taking",
    "thank you for getting back to me, the man is coming on friday",
)
SENT_STATUSES = ("sent", "delivered")
PROMISE = re.compile(
    r"\bby (?:\d{1,2}:\d{2}[ap]m on |the end of )?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) "
    r"(\d{1,2}) (\w+) (\d{4})"
)


@dataclass(frozen=True)
class QuarterConfig:
    messages: int = 3000
    start: date = date(2026, 10, 1)  # a quarter with the Christmas and Boxing Day bank holidays
    days: int = 92
    seed: int = 20261001
    late_share: float = 0.08  # arrive through the API days or weeks after they were received
    follow_up_share: float = 0.15  # the same person writes again about the same thing
    shared_share: float = 0.04  # someone else on a shared phone or email address writes


@dataclass
class Person:
    name: str | None
    phone: str
    email: str | None


@dataclass
class Arrival:
    at: datetime
    message: InboundMessage
    kind: str  # new / follow_up / shared / late
    person: int
    truth: dict[str, object]


@dataclass
class Figures:
    arrivals: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    letters: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    days: int = 0
    seconds: float = 0.0

    def report(self) -> str:
        lines = [
            f"simulated days: {self.days}; wall time {self.seconds:.1f} s",
            "arrivals: " + ", ".join(f"{k} {v}" for k, v in sorted(self.arrivals.items())),
            "channels: " + ", ".join(f"{k} {v}" for k, v in sorted(self.channels.items())),
            "letters: " + ", ".join(f"{k} {v}" for k, v in sorted(self.letters.items())),
            "staff actions: " + ", ".join(f"{k} {v}" for k, v in sorted(self.actions.items())),
            "invariant checks: " + ", ".join(f"{k} {v}" for k, v in sorted(self.checks.items())),
            f"violations: {len(self.violations)}",
            *(f"  {v}" for v in self.violations[:20]),
        ]
        return "\n".join(lines)


def load_seed() -> list[dict[str, object]]:
    rows = []
    for path in sorted(SEED_DIR.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


class Quarter:
    """Plans the quarter's arrivals, runs them day by day with staff work, checks invariants."""

    def __init__(self, runtime: Runtime, config: QuarterConfig) -> None:
        self.runtime = runtime
        self.config = config
        self.random = random.Random(config.seed)
        self.figures = Figures()
        self.references: dict[int, str] = {}
        self.truth: dict[int, Arrival] = {}
        self.people: list[Person] = []
        self.calendar = runtime.calendar
        self._letters_checked = 0
        self.progress = False  # a line a simulated week on stderr (the command turns it on)

    # --- the plan ------------------------------------------------------------------------

    def plan(self) -> list[Arrival]:
        seed = load_seed()
        self.random.shuffle(seed)
        arrivals: list[Arrival] = []
        first_contact: list[Arrival] = []
        for number in range(self.config.messages):
            at = self._arrival_time()
            roll = self.random.random()
            if first_contact and roll < self.config.follow_up_share:
                earlier = self.random.choice(first_contact[-200:])
                arrivals.append(self._follow_up(number, at, earlier))
                continue
            if first_contact and roll < self.config.follow_up_share + self.config.shared_share:
                earlier = self.random.choice(first_contact[-200:])
                arrivals.append(self._shared(number, at, earlier, seed[number % len(seed)]))
                continue
            example = seed[number % len(seed)]
            person = self._new_person(example)
            late = self.random.random() < self.config.late_share
            received = at - timedelta(days=self.random.randint(2, 30), hours=self.random.randint(0, 8)) if late else None
            message = self._message(number, example, self.people[person], received_at=received)
            arrival = Arrival(at, message, "late" if late else "new", person, example)
            arrivals.append(arrival)
            first_contact.append(arrival)
        return sorted(arrivals, key=lambda a: a.at)

    def _arrival_time(self) -> datetime:
        day = self.config.start + timedelta(days=self.random.randrange(self.config.days))
        working = self.calendar.is_working_day(day)
        if working and self.random.random() < 0.8:
            hour, minute = self.random.randint(8, 17), self.random.randint(0, 59)
        else:
            hour, minute = self.random.choice((6, 7, 19, 20, 21, 22, 23, 0, 2)), self.random.randint(0, 59)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)

    def _new_person(self, example: dict[str, object]) -> int:
        number = len(self.people)
        name = str(example.get("sender_name") or "") or None
        sender = str(example.get("sender") or "")
        phone = sender if sender.startswith("+") else f"+447700{900000 + number:06d}"
        if self.random.random() < 0.03:
            phone = f"+441632{960000 + number % 1000:06d}"  # a landline: no texts, a call back instead
        email = sender.lower() if "@" in sender else f"resident{number}@example.net"
        self.people.append(Person(name, phone, email))
        return number

    def _message(
        self, number: int, example: dict[str, object], person: Person, *, received_at: datetime | None = None,
        thread: str | None = None, body: str | None = None,
    ) -> InboundMessage:
        channel = str(example["channel"])
        text = body or str(example["body"])
        subject = str(example.get("subject") or "") or None
        if channel == "email":
            return InboundMessage(
                channel="email", external_id=f"<sim-{number}@resident.example>", body=text, subject=subject,
                sender_address=person.email, sender_email=person.email, sender_name=person.name,
                received_at=received_at, thread_keys=(thread,) if thread else (),
            )
        if channel == "web_form":
            return InboundMessage(
                channel="web_form", external_id=f"web-sim-{number}", body=text, subject=subject,
                sender_address=person.email, sender_email=person.email, sender_phone=person.phone,
                sender_name=person.name, received_at=received_at,
            )
        name = person.name if channel == "call_transcript" else None
        return InboundMessage(
            channel=channel, external_id=f"sim-{channel}-{number}", body=text, sender_address=person.phone,
            sender_phone=person.phone, sender_name=name, received_at=received_at,
        )

    def _follow_up(self, number: int, at: datetime, earlier: Arrival) -> Arrival:
        at = max(at, earlier.at + timedelta(hours=self.random.randint(2, 72)))
        person = self.people[earlier.person]
        thread = earlier.message.external_id if earlier.message.channel == "email" else None
        message = self._message(number, earlier.truth, person, thread=thread, body=self.random.choice(CHASERS))
        return Arrival(at, message, "follow_up", earlier.person, earlier.truth)

    def _shared(self, number: int, at: datetime, earlier: Arrival, example: dict[str, object]) -> Arrival:
        """Someone else in the household (or an advocate) on the same phone or email address."""
        at = max(at, earlier.at + timedelta(hours=self.random.randint(2, 72)))
        owner = self.people[earlier.person]
        other = Person(self.random.choice(("Sam Okafor", "Jo Price", "Cllr Amira Shah's office", None)),
                       owner.phone, owner.email)
        self.people.append(other)
        shaped = {**example, "channel": earlier.message.channel}
        return Arrival(at, self._message(number, shaped, other), "shared", len(self.people) - 1, example)

    # --- the run -------------------------------------------------------------------------

    def run(self, *, check: bool = True) -> Figures:
        started = time.perf_counter()
        arrivals = self.plan()
        first_day = self.config.start
        with time_machine.travel(_at(first_day, 0, 1), tick=False) as traveller:
            index = 0
            for offset in range(self.config.days + 14):  # two weeks more: the last cases are answered
                day = first_day + timedelta(days=offset)
                while index < len(arrivals) and arrivals[index].at.astimezone(LONDON).date() <= day:
                    arrival = arrivals[index]
                    traveller.move_to(arrival.at)
                    result = ingest(self.runtime, arrival.message)
                    self.truth[result.item_id] = arrival
                    self.figures.arrivals[arrival.kind] += 1
                    self.figures.channels[arrival.message.channel] += 1
                    index += 1
                if self.calendar.is_working_day(day):
                    traveller.move_to(_at(day, 16, 30))
                    self.staff_work(day)
                traveller.move_to(_at(day, 23, 30))
                if check:
                    self.check_day(day)
                self.figures.days += 1
                if self.progress and offset % 7 == 6:
                    print(
                        f"  {day}: {index} of {len(arrivals)} messages in, {len(self.figures.violations)} violations, "
                        f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True,
                    )
        self.figures.seconds = time.perf_counter() - started
        return self.figures

    # --- staff ---------------------------------------------------------------------------

    def staff_work(self, day: date) -> None:
        now = self.runtime.clock.now()
        with self.runtime.database.session() as session:
            for item in self._wrongly_linked(session, day):
                case_links.unlink(self.runtime, session, item, actor="tina", reason="a different person on a shared phone or address")
                self.figures.actions["unlinked"] += 1
            for root in self._open_roots(session):
                self._work_case(session, root, now)
            for closed in session.scalars(
                select(Item).where(Item.case_id.is_(None), Item.case_status == "closed", Item.closed_at >= now - timedelta(days=7))
            ):
                if self.random.random() < 0.01:
                    cases.reopen(self.runtime, session, closed, actor="manager", reason="the resident says the repair failed")
                    self.figures.actions["reopened"] += 1
            pending = [a for a in session.scalars(select(Acknowledgement.id).where(Acknowledgement.status == "pending"))]
        for acknowledgement_id in pending:
            self.runtime.jobs.enqueue_acknowledgement(acknowledgement_id)

    def _wrongly_linked(self, session: Session, day: date) -> list[Item]:
        """Today's follow-ups from someone other than the people of the case: staff spot and unlink them."""
        since = _at(day, 0, 0) - timedelta(days=1)
        found = []
        for item in session.scalars(select(Item).where(Item.case_id.is_not(None), Item.created_at >= since)):
            arrival = self.truth.get(item.id)
            root_arrival = self.truth.get(item.case_id or 0)
            if arrival is None or root_arrival is None:
                continue
            if arrival.kind == "shared" and self.people[arrival.person].name != self.people[root_arrival.person].name:
                self.figures.checks["shared-phone follow-ups linked automatically"] += 1
                found.append(item)
        return found

    def _work_case(self, session: Session, root: Item, now: datetime) -> None:
        chance = self.random.random
        open_kinds = deadlines.open_kinds(root)
        acted = False
        if root.queue == "triage_review" and chance() < 0.6:
            self._correct(session, root)
            open_kinds, acted = deadlines.open_kinds(root), True
        for action in ("called_back", "made_safe"):
            if set(deadlines.ACTIONS[action].kinds) & open_kinds and (
                action != "called_back" or any(a.status == "needs_callback" for a in root.acknowledgements)
            ):
                cases.record_action(self.runtime, session, root, action=action, actor="tina")
                self.figures.actions[action] += 1
                open_kinds, acted = deadlines.open_kinds(root), True
        for action in ("hazard_inspected", "meeting_arranged", "review_meeting_notified", "hearing_held"):
            if set(deadlines.ACTIONS[action].kinds) & open_kinds and chance() < 0.3:
                cases.record_action(self.runtime, session, root, action=action, actor="officer")
                self.figures.actions[action] += 1
                open_kinds, acted = deadlines.open_kinds(root), True
        respond = next((d for d in deadlines.current(root) if d.kind == "respond" and d.met_at is None), None)
        if respond is not None:
            days_left = (respond.due_at - now).days
            if root.type == "complaint" and days_left <= 3 and chance() < 0.05 and "extensions" not in root.details:
                try:
                    cases.extend(self.runtime, session, root, actor="manager", until=respond.due_at + timedelta(days=14),
                                 reason="we are waiting for a contractor's report")
                    self.figures.actions["extended"] += 1
                except InvalidTransition:
                    self.figures.actions["extension refused by policy"] += 1
            elif days_left <= 2 and chance() < 0.8 or chance() < 0.15:
                cases.record_response(self.runtime, session, root, actor="officer", summary="our response")
                self.figures.actions["responded"] += 1
                acted = True
        elif "respond" not in open_kinds and root.complaint_stage and chance() < 0.1 and root.details.get("responses"):
            try:
                cases.escalate(self.runtime, session, root, actor="manager", reason="the resident asked for the next stage")
                self.figures.actions["escalated"] += 1
                return
            except InvalidTransition:
                pass
        open_kinds = deadlines.open_kinds(root)
        if not open_kinds and (root.details.get("responses") or not deadlines.current(root)) and chance() < 0.5:
            cases.close(self.runtime, session, root, actor="manager", outcome="resolved")
            self.figures.actions["closed"] += 1
            acted = True
        if acted and root.assigned_to is None:
            cases.assign(session, root, actor="tina", assignee="tina")

    def _correct(self, session: Session, root: Item) -> None:
        truth = self.truth.get(root.id)
        if truth is None:
            return
        labels = truth.truth
        try:
            correct_item(
                self.runtime, session, root, user="tina", type=str(labels["type"]),
                categories=list(labels.get("categories") or []) if labels["type"] == "complaint" else [],
                flags=list(labels.get("flags") or []), queue=None, reason="checked",
            )
            self.figures.actions["corrected"] += 1
        except InvalidMessage:
            cases.assign(session, root, actor="tina", assignee="tina")  # labels were right: reviewed

    @staticmethod
    def _open_roots(session: Session) -> list[Item]:
        return list(
            session.scalars(
                select(Item)
                .where(Item.case_id.is_(None), Item.case_status == "open", Item.status == "processed")
                .options(selectinload(Item.deadlines), selectinload(Item.acknowledgements))
                .order_by(Item.id)
            )
        )

    # --- the invariants ------------------------------------------------------------------

    def check_day(self, day: date) -> None:
        now = self.runtime.clock.now()
        with self.runtime.database.session() as session:
            roots = list(
                session.scalars(
                    select(Item).where(Item.case_id.is_(None), Item.status == "processed")
                    .options(selectinload(Item.deadlines))
                )
            )
            # Nothing is checked about a message that was never processed: that is a violation itself.
            waiting = session.scalar(select(func.count()).select_from(Item).where(Item.status == "received"))
            if waiting:
                self._violation(day, f"{waiting} messages received but never processed")
            self.figures.checks["every message processed"] += 1
            for root in roots:
                self._check_case(day, root)
            self._check_overdue_counts(day, session, now)
            self._check_letters(day, session)
            self._check_links(day, session)
        # Reports read in their own unit of work (SQLite allows one writer at a time).
        if day.day == 1 or day == self.config.start + timedelta(days=self.config.days + 13):
            self._check_reports(day, now)

    def _violation(self, day: date, what: str) -> None:
        self.figures.violations.append(f"{day.isoformat()}: {what}")
        if self.progress:  # as it happens: a long run's violations are not lost to a stopped run
            print(f"  VIOLATION {self.figures.violations[-1]}", file=sys.stderr, flush=True)

    def _check_case(self, day: date, root: Item) -> None:
        checks = self.figures.checks
        if self.references.setdefault(root.id, root.reference or "") != root.reference:
            self._violation(day, f"item {root.id}'s reference changed to {root.reference}")
        checks["reference unchanged"] += 1
        if root.next_due_at != deadlines.next_due(root):
            self._violation(day, f"{root.reference}: next_due_at {root.next_due_at} but the module says {deadlines.next_due(root)}")
        checks["next due = the module's answer"] += 1
        if root.case_status == "open" and root.type == "complaint":
            responds = [d for d in deadlines.current(root) if d.kind == "respond" and d.stage == root.complaint_stage]
            if len(responds) != 1 or responds[0].policy != self.runtime.policy.name:
                self._violation(day, f"{root.reference}: {len(responds)} live response deadlines at {root.complaint_stage}")
            checks["one live response deadline per open complaint"] += 1
        if root.case_status == "closed" and root.next_due_at is not None:
            self._violation(day, f"{root.reference}: closed with a next due date")
        for deadline in deadlines.current(root):
            if deadlines.is_landlords(deadline.kind) and deadlines.action_for(deadline.kind) is None:
                self._violation(day, f"{root.reference}: no action meets a {deadline.kind} deadline")
        checks["every deadline kind has an action"] += 1

    def _check_overdue_counts(self, day: date, session: Session, now: datetime) -> None:
        sidebar = due_counts(session, now=now)["overdue"]
        filtered = queue_page(session, QueueFilters(due="overdue"), now=now).total
        report = len(queries.overdue_case_ids(session, now))
        stored = session.scalar(
            select(func.count()).select_from(Item).where(
                Item.case_id.is_(None), Item.case_status == "open", Item.status == "processed", Item.next_due_at < now
            )
        )
        if not sidebar == filtered == report == stored:
            self._violation(day, f"overdue: sidebar {sidebar}, queue filter {filtered}, report {report}, stored {stored}")
        self.figures.checks["overdue counts agree"] += 1

    def _check_letters(self, day: date, session: Session) -> None:
        letters = list(
            session.scalars(
                select(Acknowledgement).where(Acknowledgement.id > self._letters_checked, Acknowledgement.sent_at.is_not(None))
                .order_by(Acknowledgement.id)
            )
        )
        for letter in letters:
            self._letters_checked = max(self._letters_checked, letter.id)
            self.figures.letters[letter.purpose.split("_")[0]] += 1
            sent_day = letter.sent_at.astimezone(LONDON).date() if letter.sent_at else day
            if "has already passed" in letter.body_text or "date has passed" in letter.body_text:
                self.figures.letters["saying a policy date has passed"] += 1
            for sentence in re.split(r"(?<=\.)\s", letter.body_text):
                if "passed" in sentence:
                    continue
                for match in PROMISE.finditer(sentence):
                    promised = datetime.strptime(" ".join(match.groups()), "%d %B %Y").date()
                    if promised < sent_day:
                        self._violation(day, f"letter {letter.id} sent {sent_day} promises {promised}")
            self.figures.checks["letters promise no past date"] += 1

    def _check_links(self, day: date, session: Session) -> None:
        since = _at(day, 0, 0) - timedelta(days=1)
        for item in session.scalars(select(Item).where(Item.case_id.is_not(None), Item.updated_at >= since)):
            root = session.get(Item, item.case_id)
            assert root is not None
            if item.type == "complaint" and root.type in NARROW_CASE_TYPES:
                self._violation(day, f"complaint {item.reference} hidden in a {root.type} case {root.reference}")
            members = session.scalars(select(Item).where((Item.id == root.id) | (Item.case_id == root.id))).all()
            party = any(
                m.id != item.id
                and (m.sender_address == item.sender_address or (m.contact_id is not None and m.contact_id == item.contact_id))
                for m in members
            )
            merged = session.scalars(
                select(AuditEntry.id).where(AuditEntry.item_id == item.id, AuditEntry.action == "case_merged")
            ).first()
            if not party and merged is None:  # a person may merge cases; linking by itself may not
                self._violation(day, f"{item.reference} linked to {root.reference} but its sender is no party to it")
            self.figures.checks["linked only to a case its sender is party to"] += 1

    def _check_reports(self, day: date, now: datetime) -> None:
        period = custom_period(self.config.start, day)
        overdue = build_view(self.runtime, "overdue", period, now=now)
        with self.runtime.database.session() as session:
            overdue_cases = len(queries.overdue_case_ids(session, now))
        if overdue.totals["cases"] != overdue_cases:
            self._violation(day, "the overdue report's cases differ from the overdue cases")
        timeliness = build_view(self.runtime, "timeliness", period, now=now)
        tsm = build_view(self.runtime, "tsm", period, now=now)
        for number, stage in ((1, "stage_1"), (2, "stage_2")):
            ch02 = tsm.find(measure=f"CH02 stage {number}")
            try:
                respond = timeliness.find(measure="respond", type="complaint", stage=stage)
                met, in_target = respond["met"], respond["in_target"]
            except LookupError:
                met, in_target = 0, 0
            if (met, in_target) != (ch02["base"], ch02["count"]):
                self._violation(
                    day, f"{stage}: timeliness {in_target}/{met} but CH02 {ch02['count']}/{ch02['base']}; "
                    + "; ".join(self._responses_judged_apart(stage, period.first_day, day)),
                )
        corrections = build_view(self.runtime, "corrections", period, now=now)
        window = queries.Window(_at(period.first_day, 0, 0), _at(period.last_day + timedelta(days=1), 0, 0))
        with self.runtime.database.session() as session:
            reviewed = session.scalar(
                select(func.count()).select_from(Item).where(
                    Item.received_at >= window.start, Item.received_at < window.end, Item.model_version.is_not(None),
                    queries.reviewed_by_staff(),
                )
            )
        if corrections.totals["classified"] != reviewed:
            self._violation(day, f"corrections report counts {corrections.totals['classified']} items, {reviewed} were reviewed")
        self.figures.checks["reports reconcile"] += 1


    def _responses_judged_apart(self, stage: str, first_day: date, last_day: date) -> list[str]:
        """The cases whose first response at `stage` in the period the two reports judge differently,
        each with the dates both used: what a person needs to find the cause of a mismatch."""
        from intake.reports.timescales import code_timescales
        from triage_rules.working_days import london_date

        code = code_timescales()[stage]
        start, end = _at(first_day, 0, 0), _at(last_day + timedelta(days=1), 0, 0)
        found: list[str] = []
        with self.runtime.database.session() as session:
            roots = session.scalars(
                select(Item).where(Item.type == "complaint", Item.case_id.is_(None))
                .options(selectinload(Item.deadlines))
            )
            for root in roots:
                def first(kind: str, item: Item = root) -> Deadline | None:
                    rows = [d for d in item.deadlines if d.kind == kind and d.stage == stage and d.met_at is not None]
                    return min(rows, key=lambda d: (d.met_at, d.id)) if rows else None

                respond = first("respond")
                if respond is None or respond.met_at is None or not start <= respond.met_at < end:
                    continue
                acknowledged = first("acknowledge")
                entered = root.stage_started_at if root.complaint_stage == stage and root.stage_started_at else root.received_at
                extensions = [
                    e.details.get("until") for e in session.scalars(
                        select(AuditEntry).where(AuditEntry.item_id == root.id, AuditEntry.action == "extended")
                        .order_by(AuditEntry.at, AuditEntry.id)
                    ) if e.details.get("stage") == stage
                ]
                extended = london_date(datetime.fromisoformat(extensions[-1])) if extensions and extensions[-1] else None
                due_day = code.due_day(
                    self.calendar, entered=london_date(entered),
                    acknowledged=london_date(acknowledged.met_at) if acknowledged and acknowledged.met_at else None,
                    extended_until=extended,
                )
                in_target = respond.met_at <= respond.due_at
                in_time = london_date(respond.met_at) <= due_day
                if in_target != in_time:
                    found.append(
                        f"{root.reference}: responded {respond.met_at:%Y-%m-%d %H:%M}, due {respond.due_at:%Y-%m-%d} "
                        f"({respond.basis}); CH02 entered {london_date(entered)}, acknowledged "
                        f"{acknowledged.met_at if acknowledged else None}, extended {extended}, due {due_day}"
                    )
        return found


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def _runtime(database_url: str, workdir: Path) -> Iterator[Runtime]:
    from intake.runtime import use_runtime
    from intake.settings import Settings

    settings = Settings(
        _env_file=None, environment="test", database_url=database_url, outbox_dir=workdir / "outbox",  # type: ignore[call-arg]
        # Jobs inline: each message is processed (and each letter sent) at its simulated moment. A
        # queue with no worker would leave every message `received` and nothing to check.
        raw_store_dir=workdir / "raw", redis_url=None, jobs="inline",
    )
    runtime = Runtime.build(settings)
    runtime.database.upgrade()
    with use_runtime(runtime):
        yield runtime
    runtime.database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--database", default=None, help="a database URL (default: SQLite in a temp folder)")
    parser.add_argument("--seed", type=int, default=QuarterConfig.seed)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the SQLite database and outbox here (default: a temp folder, removed)")
    args = parser.parse_args(argv)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return _run(args, args.workdir)
    # /dev/shm when there is one: the simulation measures the product, not the disk's fsync.
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as folder:
        return _run(args, Path(folder))


def _run(args: argparse.Namespace, workdir: Path) -> int:
    url = args.database or f"sqlite:///{workdir / 'quarter.db'}"
    for runtime in _runtime(url, workdir):
        quarter = Quarter(runtime, QuarterConfig(messages=args.messages, seed=args.seed))
        quarter.progress = True
        figures = quarter.run()
        print(f"database: {url.split('://')[0]}; messages: {args.messages}")
        print(figures.report())
        return 1 if figures.violations else 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
