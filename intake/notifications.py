"""What a member of staff should look at now: mentions and assignments (stored), and live cases
that need someone — emergency and safeguarding cases nobody has picked up, and their own cases whose
next deadline is close (worked out when asked, so they are never stale)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.orm import Session

from models import Item, StaffNotification

URGENT_QUEUES = ("emergency", "safeguarding")
DUE_SOON = timedelta(hours=24)
RECENT_ARRIVALS = timedelta(hours=24)


@dataclass(frozen=True)
class LiveAlerts:
    unassigned_urgent: list[Item]  # emergency / safeguarding, open, nobody assigned
    my_due_soon: list[Item]  # assigned to me, next deadline within a day (or already passed)


def notify(session: Session, *, username: str, kind: str, item_id: int | None, text: str, now: datetime) -> None:
    session.add(StaffNotification(username=username, kind=kind, item_id=item_id, text=text[:300], created_at=now))


def case_assigned(session: Session, item: Item, *, assignee: str | None, actor: str, now: datetime) -> None:
    """Tell the new assignee (unless they assigned it to themselves)."""
    if assignee and assignee != actor:
        reference = item.reference or f"item {item.id}"
        notify(session, username=assignee, kind="assigned", item_id=item.id,
               text=f"{actor} assigned {reference} to you", now=now)


def unread(session: Session, username: str) -> list[StaffNotification]:
    return list(
        session.scalars(
            select(StaffNotification)
            .where(StaffNotification.username == username, StaffNotification.read_at.is_(None))
            .order_by(StaffNotification.id.desc())
            .limit(200)
        )
    )


def recent(session: Session, username: str, limit: int = 50) -> list[StaffNotification]:
    return list(
        session.scalars(
            select(StaffNotification)
            .where(StaffNotification.username == username)
            .order_by(StaffNotification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(session: Session, username: str, *, now: datetime) -> int:
    result = session.execute(
        update(StaffNotification)
        .where(StaffNotification.username == username, StaffNotification.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _is_urgent() -> object:
    flags = cast(Item.flags, String)
    return or_(
        Item.queue.in_(URGENT_QUEUES),
        flags.like('%"urgent_safety"%'),
        flags.like('%"safeguarding"%'),
    )


def live_alerts(session: Session, username: str, *, now: datetime) -> LiveAlerts:
    open_root = (Item.case_id.is_(None), Item.status == "processed", Item.case_status == "open")
    urgent = list(
        session.scalars(
            select(Item)
            .where(*open_root, _is_urgent(), Item.assigned_to.is_(None))  # type: ignore[arg-type]
            .order_by(Item.received_at.desc())
            .limit(50)
        )
    )
    due = list(
        session.scalars(
            select(Item)
            .where(*open_root, Item.assigned_to == username, Item.next_due_at < now + DUE_SOON)
            .order_by(Item.next_due_at)
            .limit(50)
        )
    )
    return LiveAlerts(unassigned_urgent=urgent, my_due_soon=due)


def badge_count(session: Session, username: str, *, now: datetime) -> int:
    """The number on the header's Notifications link: unread notes plus live cases needing someone."""
    stored = session.scalar(
        select(func.count())
        .select_from(StaffNotification)
        .where(StaffNotification.username == username, StaffNotification.read_at.is_(None))
    ) or 0
    alerts = live_alerts(session, username, now=now)
    return int(stored) + len(alerts.unassigned_urgent) + len(alerts.my_due_soon)
