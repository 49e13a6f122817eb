"""The reports' pre-aggregated daily facts, and the marks that say which of them a change made stale.

`report_daily_facts` holds, per London day, the grouped counts every period report sums (new cases
by type, channel and queue; deadlines first met; cases closed; …): a financial year's report reads
a few thousand of these rows instead of a million items. What each `measure` keeps in the generic
columns is listed in intake/reports/daily_facts.py, which computes and reads them.

`report_fact_marks` is how the facts keep up. Every unit of work that writes an item, a deadline,
an acknowledgement, an audit entry or a correction adds, in the same transaction, a mark naming the
item (and the London days of any timestamp it moved away from, which the item no longer shows).
Before a report reads the facts, and from the worker's periodic sweep, the marked items' days are
recomputed from the tables and the marks deleted — so a correction, a response, a closure, a
reopening or an extension shows in the next report read, not after a nightly job. A mark with
neither item nor day means "rebuild every day" (written by the migration that made these tables).

The listener is registered on every `Session` when `models` is imported, so no service module has
to remember to call it. Writes that bypass the unit of work (Core `update()` / `delete()` of a
reported column) must call `mark_items(session, ids)` themselves; none do today.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Index, Integer, String, Table, Text, event, insert, select
from sqlalchemy.orm import Mapped, Session, SessionTransaction, UOWTransaction, mapped_column
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.base import PassiveFlag

from models.base import Base
from models.tables import Acknowledgement, AuditEntry, Correction, Deadline, Item

# The reports' days are the office's days (intake/reports/local_dates.py does the same in SQL).
LONDON = ZoneInfo("Europe/London")
_PENDING = "report_fact_marks.pending"
_UNWRITTEN = "report_fact_marks.unwritten"


class ReportDailyFact(Base):
    """One grouped count of one measure on one London day; the labels and days depend on the measure."""

    __tablename__ = "report_daily_facts"
    __table_args__ = (Index("ix_report_daily_facts_measure_day", "measure", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    label_1: Mapped[str | None] = mapped_column(Text)
    label_2: Mapped[str | None] = mapped_column(Text)
    label_3: Mapped[str | None] = mapped_column(Text)
    day_1: Mapped[date | None] = mapped_column(Date)
    day_2: Mapped[date | None] = mapped_column(Date)
    count_1: Mapped[int] = mapped_column(Integer, default=0)
    count_2: Mapped[int] = mapped_column(Integer, default=0)
    count_3: Mapped[int] = mapped_column(Integer, default=0)


class ReportFactMark(Base):
    """An item whose days' facts are stale, or a day to recompute; neither: recompute every day.

    Append-only (no unique key): the refresh deletes exactly the marks it read, so a mark written
    while it runs survives for the next one."""

    __tablename__ = "report_fact_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the item may be erased
    day: Mapped[date | None] = mapped_column(Date)


# The timestamps a fact is filed under, per table: when one moves, the day it left goes stale too.
_DAY_COLUMNS: dict[type[Any], tuple[str, ...]] = {
    Item: ("received_at", "closed_at"),
    Deadline: ("met_at",),
    Acknowledgement: ("created_at",),
    AuditEntry: ("at",),
    Correction: (),
}


_INSERT_MARKS = insert(cast(Table, ReportFactMark.__table__))


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def mark_items(session: Session, item_ids: Iterable[int]) -> None:
    """Mark these items' facts stale, for writes that bypass the unit of work."""
    rows = [{"item_id": item_id, "day": None} for item_id in sorted(set(item_ids))]
    if rows:  # Core, not the ORM's bulk path: the request path marks every item it stores
        session.connection().execute(_INSERT_MARKS, rows)


def mark_everything(session: Session) -> None:
    """Every day's facts are stale (after a bulk load that bypassed the ORM, or to rebuild)."""
    session.execute(insert(ReportFactMark).values(item_id=None, day=None))


def _days_left(instance: Any, names: tuple[str, ...]) -> set[date]:
    days: set[date] = set()
    for name in names:
        # The attribute's history alone (not `inspect(instance).attrs`, which builds a state object
        # for every column of the row the first time: most of this listener's time in a worker's batch).
        for value in get_history(instance, name, passive=PassiveFlag.PASSIVE_NO_INITIALIZE).deleted:
            if isinstance(value, datetime):
                days.add(london_day(value))
    return days


def _days_of_erased_item(session: Session, item: Item) -> set[date]:
    """An item about to be deleted takes its rows with it: note every day they were filed under."""
    moments: list[datetime | None] = [item.received_at, item.closed_at]
    with session.no_autoflush:
        moments += session.scalars(select(Deadline.met_at).where(Deadline.item_id == item.id)).all()
        moments += session.scalars(
            select(Acknowledgement.created_at).where(Acknowledgement.item_id == item.id)
        ).all()
        moments += session.scalars(select(AuditEntry.at).where(AuditEntry.item_id == item.id)).all()
        moments += session.scalars(select(Item.received_at).where(Item.case_id == item.id)).all()
    return {london_day(moment) for moment in moments if moment is not None}


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """Collect what this flush changes; ids of new rows are known only after it, hence two steps."""
    pending: dict[str, Any] = session.info.setdefault(_PENDING, {"objects": [], "ids": set(), "days": set()})
    # Each of session.new / .dirty / .deleted builds a new set when read: read once per flush.
    new, dirty, deleted_ones = session.new, session.dirty, session.deleted
    for changes in (new, dirty, deleted_ones):
        for instance in changes:
            kind = type(instance)
            if kind not in _DAY_COLUMNS:
                continue
            deleted = instance in deleted_ones
            # Every dirty row is marked, without asking `session.is_modified` whether a value really
            # changed: that walked every attribute's history of every dirty row at every flush, 6 %
            # of a worker's CPU (bench/profile_worker.py's cProfile), to spare the one row in eight
            # set to what it was — a mark too many only recomputes a day, and a worker's batch
            # marks those items anyway.
            pending["objects"].append(instance)
            if changes is new:
                continue
            pending["days"] |= _days_left(instance, _DAY_COLUMNS[kind])
            if deleted:  # the row goes, and with it the days it was filed under
                values = (getattr(instance, name) for name in _DAY_COLUMNS[kind])
                pending["days"] |= {london_day(value) for value in values if isinstance(value, datetime)}
            if kind is Item:
                # A follow-up moved to another case: the case it left counts its follow-ups' reviews.
                moved_from = get_history(instance, "case_id", passive=PassiveFlag.PASSIVE_NO_INITIALIZE).deleted
                pending["ids"].update(value for value in moved_from if value)
                if deleted and instance.id is not None:
                    pending["days"] |= _days_of_erased_item(session, instance)


@event.listens_for(Session, "after_flush")
def _collect_marks(session: Session, flush_context: UOWTransaction) -> None:
    """The flush's marks, kept until the transaction commits: a worker's batch flushes a few times
    per item, and one INSERT at commit replaces one per flush (issue 14's profile)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    unwritten: dict[str, set[Any]] = session.info.setdefault(_UNWRITTEN, {"ids": set(), "days": set()})
    unwritten["ids"] |= pending["ids"]
    for instance in pending["objects"]:
        item_id = instance.id if isinstance(instance, Item) else instance.item_id
        if item_id is not None:
            unwritten["ids"].add(item_id)
    unwritten["days"] |= pending["days"]


@event.listens_for(Session, "before_commit")
def _write_marks(session: Session) -> None:
    """Flush what is left first, so its marks are written with the rest, in this transaction."""
    session.flush()
    unwritten = session.info.pop(_UNWRITTEN, None)
    if not unwritten:
        return
    rows = [{"item_id": item_id, "day": None} for item_id in sorted(unwritten["ids"])]
    rows += [{"item_id": None, "day": day} for day in sorted(unwritten["days"])]
    if rows:
        session.connection().execute(insert(ReportFactMark), rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget_marks(session: Session, previous_transaction: SessionTransaction) -> None:
    # The whole transaction rolled back: nothing they named was written. A savepoint's rollback
    # keeps them: a mark too many only recomputes a day, one too few would leave it stale.
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_UNWRITTEN, None)
