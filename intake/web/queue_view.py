"""What the queue pages show: counts per queue, and one page of open cases with filters and search.

A queue lists case roots (follow-ups appear on their case's page), most urgent deadline first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from intake.clock import SYSTEM_CLOCK
from intake.deadlines import overdue_case_condition
from intake.formatting import UK
from intake.search import search_condition
from models import Item
from triage_rules.taxonomy import CATEGORIES, CHANNELS, FLAGS, QUEUES, TYPES

JUNK = "not_for_triage"  # spam, marketing, phishing, automated notices: never acknowledged, never worked
JUNK_DAYS = 14  # the junk view's count per day goes back this far
PAGE_SIZE = 50
EXPORT_LIMIT = 50_000  # a CSV export of one view; more than a year of a large landlord's open cases
ALL = "all"


@dataclass(frozen=True)
class QueueFilters:
    queue: str = ALL
    type: str = ""
    category: str = ""
    flag: str = ""
    channel: str = ""
    due: str = ""  # "", "overdue" or "today"
    search: str = ""
    status: str = "open"  # open / closed
    assigned: str = ""  # "", "me" (the signed-in officer's cases) or "none" (nobody's yet)
    page: int = 1

    @classmethod
    def from_query(cls, queue: str, params: dict[str, str]) -> QueueFilters:
        """Unknown values are dropped, never passed to the database."""

        def pick(name: str, allowed: tuple[str, ...]) -> str:
            value = params.get(name, "")
            return value if value in allowed else ""

        page = params.get("page", "1")
        return cls(
            queue=queue if queue in QUEUES else ALL,
            type=pick("type", TYPES),
            category=pick("category", CATEGORIES),
            flag=pick("flag", FLAGS),
            channel=pick("channel", CHANNELS),
            due=pick("due", ("overdue", "today")),
            search=params.get("q", "").strip()[:200],
            status="closed" if params.get("status") == "closed" else "open",
            assigned=pick("assigned", ("me", "none")),
            page=max(1, min(int(page), 10_000)) if page.isdigit() else 1,
        )

    def query_string(self, **changes: object) -> str:
        """This view's filters as a query string, with some changed (e.g. page=2 or flag="")."""
        values: dict[str, object] = {
            "type": self.type,
            "category": self.category,
            "flag": self.flag,
            "channel": self.channel,
            "due": self.due,
            "q": self.search,
            "status": "" if self.status == "open" else self.status,
            "assigned": self.assigned,
            "page": self.page,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v and not (k == "page" and str(v) == "1")})

    @property
    def active(self) -> bool:
        return any((self.type, self.category, self.flag, self.channel, self.due, self.search, self.assigned))


@dataclass(frozen=True)
class QueuePage:
    items: list[Item]
    total: int
    page: int
    pages: int


def _json_list_contains(column: Any, value: str) -> ColumnElement[bool]:
    # Taxonomy values only (checked in from_query), matched with their quotes: portable across
    # SQLite's JSON text and PostgreSQL's JSONB, and exact ("delay" never matches "delayed").
    return cast(column, String).like(f'%"{value}"%')


def _end_of_uk_day(now: datetime) -> datetime:
    local = now.astimezone(UK)
    tomorrow = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return tomorrow.astimezone(UTC)


def _open_roots() -> list[ColumnElement[bool]]:
    return [Item.case_id.is_(None), Item.status == "processed"]


def queue_counts(session: Session) -> dict[str, int]:
    """Open cases per queue, and under "all" their total."""
    rows = session.execute(
        select(Item.queue, func.count()).where(*_open_roots(), Item.case_status == "open").group_by(Item.queue)
    ).all()
    counts = {queue: 0 for queue in QUEUES}
    for queue, count in rows:
        if queue in counts:
            counts[queue] = count
    counts[ALL] = sum(count for queue, count in rows if queue != JUNK)  # junk is not work
    return counts


def junk_per_day(session: Session, *, now: datetime, days: int = JUNK_DAYS) -> list[tuple[date, int]]:
    """Messages set aside as junk on each of the last `days` UK days, today first: a sudden rise
    means a spam run (or a model putting real messages there, which someone should look at)."""
    today = now.astimezone(UK).date()
    start = _end_of_uk_day(now) - timedelta(days=days)
    received = session.scalars(
        select(Item.received_at).where(Item.queue == JUNK, Item.case_id.is_(None), Item.received_at >= start)
    )
    per_day = {today - timedelta(days=n): 0 for n in range(days)}
    for at in received:
        day = at.astimezone(UK).date()
        if day in per_day:
            per_day[day] += 1
    return list(per_day.items())


def due_counts(session: Session, *, now: datetime) -> dict[str, int]:
    """The sidebar's counts. Overdue: cases with a landlord's deadline past due and unmet — the
    same condition the reports count (`intake.deadlines.overdue_case_condition`)."""
    base = select(func.count()).select_from(Item).where(*_open_roots(), Item.case_status == "open")
    return {
        "overdue": session.scalar(base.where(overdue_case_condition(now))) or 0,
        "today": session.scalar(base.where(Item.next_due_at >= now, Item.next_due_at < _end_of_uk_day(now))) or 0,
    }


def assignment_counts(session: Session, *, username: str) -> dict[str, int]:
    """Open cases assigned to this officer ("me") and to nobody ("none")."""
    base = select(func.count()).select_from(Item).where(*_open_roots(), Item.case_status == "open")
    return {
        "me": session.scalar(base.where(Item.assigned_to == username)) or 0,
        "none": session.scalar(base.where(Item.assigned_to.is_(None))) or 0,
    }


def _conditions(filters: QueueFilters, *, now: datetime, username: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [*_open_roots(), Item.case_status == filters.status]
    if filters.assigned == "me":
        conditions.append(Item.assigned_to == (username or ""))
    elif filters.assigned == "none":
        conditions.append(Item.assigned_to.is_(None))
    if filters.queue != ALL:
        conditions.append(Item.queue == filters.queue)
    elif not filters.search:  # "all open cases" is the work; a search still finds a message filed as junk
        conditions.append(or_(Item.queue.is_(None), Item.queue != JUNK))
    if filters.type:
        conditions.append(Item.type == filters.type)
    if filters.category:
        conditions.append(_json_list_contains(Item.categories, filters.category))
    if filters.flag:
        conditions.append(_json_list_contains(Item.flags, filters.flag))
    if filters.channel:
        conditions.append(Item.channel == filters.channel)
    if filters.due == "overdue":
        conditions.append(overdue_case_condition(now))
    elif filters.due == "today":
        conditions.append(Item.next_due_at >= now)
        conditions.append(Item.next_due_at < _end_of_uk_day(now))
    if filters.search:
        conditions.append(_search(filters.search))
    return conditions


def _most_urgent_first() -> tuple[Any, ...]:
    # A live safety or safeguarding case goes above everything, however new: a gas smell reported
    # a minute ago matters more than a weeks-old complaint with an earlier deadline.
    live_risk = or_(_json_list_contains(Item.flags, "urgent_safety"), _json_list_contains(Item.flags, "safeguarding"))
    return (case((live_risk, 0), else_=1), Item.next_due_at.is_(None), Item.next_due_at, Item.received_at)


def queue_page(
    session: Session, filters: QueueFilters, *, now: datetime | None = None, username: str | None = None,
    include_restricted: bool = False,
) -> QueuePage:
    now = now or SYSTEM_CLOCK.now()
    conditions = _conditions(filters, now=now, username=username)
    if not include_restricted:  # restricted (intake/privacy): admins only
        conditions.append(Item.restricted_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Item).where(*conditions)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    items = list(
        session.scalars(
            select(Item)
            .where(*conditions)
            .order_by(*_most_urgent_first())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    return QueuePage(items=items, total=total, page=page, pages=pages)


def queue_rows(
    session: Session,
    filters: QueueFilters,
    *,
    now: datetime | None = None,
    username: str | None = None,
    limit: int = EXPORT_LIMIT,
) -> list[Item]:
    """Every case of a view (not one page), most urgent first: for a CSV export."""
    now = now or SYSTEM_CLOCK.now()
    conditions = _conditions(filters, now=now, username=username)
    return list(session.scalars(select(Item).where(*conditions).order_by(*_most_urgent_first()).limit(limit)))


def _search(term: str) -> ColumnElement[bool]:
    """References, phone numbers and words of any message of a case (intake/search.py)."""
    return search_condition(term)
