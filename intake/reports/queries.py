"""The reports' SQL (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Every query aggregates in the database and returns grouped rows — counts per London day, per label,
per (start day, end day) pair — never items. Filters on time use half-open UTC intervals on indexed
columns (items.received_at, items.closed_at, deadlines.met_at, acknowledgements(purpose, created_at)),
so a quarter's report reads a quarter's rows, not the whole table.

Words used below (docs/reports.md says the same for managers):
- a *case* is a root item (`case_id IS NULL`); follow-ups are messages on a case, not new contacts.
- a *triaged* item has a queue; SMS keywords and bounce reports are stored but never triaged.
- a complaint *enters* a stage when its stage acknowledgement row is planned (escalation to stage 2
  writes the `stage_2` acknowledgement in the same transaction; a service request that becomes a
  complaint writes the `complaint` one); a complaint from the start enters at receipt.
- a deadline's *first met* row is its earliest `met_at` for the same (item, kind, stage): recomputing
  deadlines supersedes rows, and reopening a case adds a new one, but a response is counted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from intake.reports.local_dates import london_date
from models import Acknowledgement, AuditEntry, Correction, Deadline, Item
from models.base import UTCDateTime
from triage_rules.taxonomy import CATEGORIES, FLAGS

COMPLAINT = "complaint"
# Deadlines that are not the landlord's to meet, or that are met by another row: never "overdue".
NOT_OVERDUE_KINDS = (
    "escalation_request_by",  # the resident's window to ask for the next stage
    "holding_response",  # met by agreeing the extension that created it
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Window(NamedTuple):
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


def _within(column: ColumnElement[Any], window: Window) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


def _is_case() -> ColumnElement[bool]:
    return and_(Item.case_id.is_(None), Item.queue.is_not(None))


def _json_text(expression: ColumnElement[Any]) -> ColumnElement[str]:
    return cast(expression, Text)


def has_label(json_list_text: ColumnElement[Any], label: str) -> ColumnElement[bool]:
    """A JSON list (as text) contains `label`. Labels are plain identifiers, so the quoted label
    matches exactly one element and never part of another."""
    return func.coalesce(json_list_text, "").contains(f'"{label}"', autoescape=True)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- when a complaint entered a stage -------------------------------------------------------


def _acknowledgement_created(item_id: ColumnElement[int], purpose: Any) -> ColumnElement[datetime]:
    row = aliased(Acknowledgement)
    return (
        select(row.created_at)
        .where(row.item_id == item_id, row.purpose == purpose)
        .correlate_except(row)
        .scalar_subquery()
    )


def stage_entered_at(item_id: ColumnElement[int], stage: ColumnElement[str | None]) -> ColumnElement[datetime]:
    """When the item entered `stage` (receipt for deadlines without a stage)."""
    return case(
        (stage.is_(None), Item.received_at),
        else_=func.coalesce(
            _acknowledgement_created(item_id, stage),
            _acknowledgement_created(item_id, "complaint"),
            Item.received_at,
        ),
    )


def _first_met(row: type[Deadline] | Any) -> ColumnElement[bool]:
    """No earlier met row of the same (item, kind, stage)."""
    earlier = aliased(Deadline)
    return ~exists().where(
        earlier.item_id == row.item_id,
        earlier.kind == row.kind,
        earlier.stage.is_not_distinct_from(row.stage),
        earlier.met_at.is_not(None),
        or_(earlier.met_at < row.met_at, and_(earlier.met_at == row.met_at, earlier.id < row.id)),
    )


# --- volumes ------------------------------------------------------------------------------


class DayTypeChannel(NamedTuple):
    day: date
    type: str | None
    channel: str
    count: int


def cases_by_day_type_channel(session: Session, window: Window) -> list[DayTypeChannel]:
    day = london_date(Item.received_at)
    query = (
        select(day, Item.type, Item.channel, func.count())
        .where(_within(Item.received_at, window), _is_case())
        .group_by(day, Item.type, Item.channel)
    )
    return [DayTypeChannel(*row) for row in session.execute(query)]


class QueueType(NamedTuple):
    queue: str
    type: str | None
    count: int


def cases_by_queue_and_type(session: Session, window: Window) -> list[QueueType]:
    query = (
        select(Item.queue, Item.type, func.count())
        .where(_within(Item.received_at, window), _is_case())
        .group_by(Item.queue, Item.type)
    )
    return [QueueType(*row) for row in session.execute(query)]


class CategoryCounts(NamedTuple):
    complaints: int
    uncategorised: int
    by_category: dict[str, int]


def complaint_categories(session: Session, window: Window) -> CategoryCounts:
    text = _json_text(Item.categories)
    columns = [func.count(), _count_if(or_(Item.categories.is_(None), text == "[]"))]
    columns += [_count_if(has_label(text, category)) for category in CATEGORIES]
    query = select(*columns).where(_within(Item.received_at, window), _is_case(), Item.type == COMPLAINT)
    total, uncategorised, *counts = session.execute(query).one()
    return CategoryCounts(int(total), int(uncategorised), dict(zip(CATEGORIES, map(int, counts), strict=True)))


# --- timeliness ---------------------------------------------------------------------------


class MetGroup(NamedTuple):
    kind: str
    type: str | None
    stage: str | None
    entered_day: date
    met_day: date
    count: int
    in_target: int


def first_met_deadlines(session: Session, window: Window) -> list[MetGroup]:
    """Deadlines first met in the window, grouped by (kind, type, stage, entered day, met day)."""
    entered_day = london_date(stage_entered_at(Deadline.item_id, Deadline.stage))
    met_day = london_date(Deadline.met_at)
    query = (
        select(
            Deadline.kind,
            Item.type,
            Deadline.stage,
            entered_day,
            met_day,
            func.count(),
            _count_if(Deadline.met_at <= Deadline.due_at),
        )
        .join(Item, Item.id == Deadline.item_id)
        .where(_within(Deadline.met_at, window), _first_met(Deadline))
        .group_by(Deadline.kind, Item.type, Deadline.stage, entered_day, met_day)
    )
    return [MetGroup(*row) for row in session.execute(query)]


class OverdueGroup(NamedTuple):
    queue: str | None
    kind: str
    stage: str | None
    due_day: date
    count: int


def overdue_deadlines(session: Session, now: datetime) -> list[OverdueGroup]:
    """Current deadlines past due and not met on open cases, grouped by (queue, kind, stage, due day).

    A deadline already met by an earlier row of the same kind and stage is not outstanding (a
    recomputation makes new rows without their `met_at`) — except a response after the case was
    reopened: reopening asks for a new response, not a new acknowledgement.
    """
    met = aliased(Deadline)
    reopened = (
        select(func.max(AuditEntry.at))
        .where(AuditEntry.item_id == Deadline.item_id, AuditEntry.action == "reopened")
        .correlate(Deadline)
        .scalar_subquery()
    )
    epoch = literal(EPOCH, UTCDateTime())
    counts_from = case((Deadline.kind == "acknowledge", epoch), else_=func.coalesce(reopened, epoch))
    already_met = exists().where(
        met.item_id == Deadline.item_id,
        met.kind == Deadline.kind,
        met.stage.is_not_distinct_from(Deadline.stage),
        met.met_at.is_not(None),
        met.met_at >= counts_from,
    )
    due_day = london_date(Deadline.due_at)
    query = (
        select(Item.queue, Deadline.kind, Deadline.stage, due_day, func.count())
        .join(Item, Item.id == Deadline.item_id)
        .where(
            Deadline.superseded_at.is_(None),
            Deadline.met_at.is_(None),
            Deadline.due_at < now,
            Deadline.kind.not_in(NOT_OVERDUE_KINDS),
            Item.case_status == "open",
            ~already_met,
        )
        .group_by(Item.queue, Deadline.kind, Deadline.stage, due_day)
    )
    return [OverdueGroup(*row) for row in session.execute(query)]


# --- outcomes -----------------------------------------------------------------------------


class OutcomeGroup(NamedTuple):
    type: str | None
    outcome: str | None
    closed: int
    with_remedy: int


def outcomes_closed(session: Session, window: Window) -> list[OutcomeGroup]:
    outcome = func.lower(func.trim(Item.outcome))
    remedy = Item.details["remedy"].as_string()
    query = (
        select(Item.type, outcome, func.count(), _count_if(and_(remedy.is_not(None), remedy != "")))
        .where(_within(Item.closed_at, window), Item.case_id.is_(None))
        .group_by(Item.type, outcome)
    )
    return [OutcomeGroup(*row) for row in session.execute(query)]


# --- corrections --------------------------------------------------------------------------


class TypeCorrection(NamedTuple):
    model_type: str | None  # what the classifier said
    final_type: str | None  # what the item is now
    count: int
    corrected: int  # items with at least one correction


class LabelAgreement(NamedTuple):
    group: str  # category / flag
    label: str
    kept: int
    removed: int  # the model gave it, staff took it away
    added: int  # staff added it, the model had missed it


class CorrectionCounts(NamedTuple):
    types: list[TypeCorrection]
    labels: list[LabelAgreement]


def classifier_corrections(session: Session, window: Window) -> CorrectionCounts:
    """Items the classifier labelled in the window: its labels (from each item's first correction's
    `before`, or the item's own labels when nobody corrected it) against the item's labels now."""
    first = (
        select(Correction.item_id, func.min(Correction.id).label("first_id"))
        .group_by(Correction.item_id)
        .subquery("first_corrections")
    )
    correction = aliased(Correction)
    cohort = and_(_within(Item.received_at, window), Item.model_version.is_not(None))
    corrected = correction.id.is_not(None)
    model_type = case(
        (and_(corrected, correction.before["type"].as_string().is_not(None)), correction.before["type"].as_string()),
        else_=Item.type,
    )
    joined = (
        Item.__table__.outerjoin(first, first.c.item_id == Item.id).outerjoin(
            correction, correction.id == first.c.first_id
        )
    )
    type_query = (
        select(model_type, Item.type, func.count(), _count_if(corrected))
        .select_from(joined)
        .where(cohort)
        .group_by(model_type, Item.type)
    )
    types = [TypeCorrection(*row) for row in session.execute(type_query)]

    columns: list[ColumnElement[int]] = []
    plan: list[tuple[str, str]] = []
    for group, key, labels, final_column in (
        ("category", "categories", CATEGORIES, Item.categories),
        ("flag", "flags", FLAGS, Item.flags),
    ):
        before_text = correction.before[key].as_string()
        for label in labels:
            final_has = has_label(_json_text(final_column), label)
            model_has = case(
                (and_(corrected, before_text.is_not(None)), has_label(before_text, label)),
                else_=final_has,
            )
            columns += [
                _count_if(and_(model_has, final_has)),
                _count_if(and_(model_has, ~final_has)),
                _count_if(and_(~model_has, final_has)),
            ]
            plan.append((group, label))
    values = session.execute(select(*columns).select_from(joined).where(cohort)).one()
    labels_found = [
        LabelAgreement(group, label, int(values[3 * i]), int(values[3 * i + 1]), int(values[3 * i + 2]))
        for i, (group, label) in enumerate(plan)
    ]
    return CorrectionCounts(types, labels_found)


# --- Tenant Satisfaction Measures ---------------------------------------------------------


def _has_stage(stage: str) -> ColumnElement[bool]:
    row = aliased(Deadline)
    return exists().where(row.item_id == Item.id, row.stage == stage)


def _has_acknowledgement(purpose: str) -> ColumnElement[bool]:
    row = aliased(Acknowledgement)
    return exists().where(row.item_id == Item.id, row.purpose == purpose)


def complaints_entering_stage(session: Session, window: Window, stage: str) -> int:
    """CH01: complaints that entered `stage` in the window, each counted once however often reopened.

    Three index-friendly branches, one per way in: escalated into the stage; a service request that
    became a complaint (entering its first stage then); a complaint from the start (at receipt).
    """
    complaint_case = and_(Item.type == COMPLAINT, Item.case_id.is_(None), _has_stage(stage))
    escalated = (
        select(Item.id)
        .join(Acknowledgement, and_(Acknowledgement.item_id == Item.id, Acknowledgement.purpose == stage))
        .where(_within(Acknowledgement.created_at, window), complaint_case)
    )
    became_complaint = (
        select(Item.id)
        .join(
            Acknowledgement, and_(Acknowledgement.item_id == Item.id, Acknowledgement.purpose == "complaint")
        )
        .where(_within(Acknowledgement.created_at, window), complaint_case, ~_has_acknowledgement(stage))
    )
    from_the_start = select(Item.id).where(
        _within(Item.received_at, window),
        complaint_case,
        ~_has_acknowledgement(stage),
        ~_has_acknowledgement("complaint"),
    )
    entries = union_all(escalated, became_complaint, from_the_start).subquery()
    return int(session.execute(select(func.count()).select_from(entries)).scalar_one())


class ResponseGroup(NamedTuple):
    entered_day: date
    acknowledged_day: date | None
    responded_day: date
    extended_until: str | None  # ISO text from the audit log's latest extension of this stage
    count: int


def _stage_acknowledged_at(stage: str) -> ColumnElement[datetime]:
    """When the stage was acknowledged: its acknowledge deadline's first `met_at` (a call-back
    recorded by staff counts), else the stage's acknowledgement's `sent_at`."""
    deadline = aliased(Deadline)
    by_deadline = (
        select(func.min(deadline.met_at))
        .where(deadline.item_id == Item.id, deadline.kind == "acknowledge", deadline.stage == stage)
        .correlate(Item)
        .scalar_subquery()
    )
    own, became, received = (aliased(Acknowledgement) for _ in range(3))

    def sent(row: Any, purpose: str) -> Any:
        return select(row.sent_at).where(row.item_id == Item.id, row.purpose == purpose).correlate(Item)

    by_acknowledgement = case(
        (_has_acknowledgement(stage), sent(own, stage).scalar_subquery()),
        (_has_acknowledgement("complaint"), sent(became, "complaint").scalar_subquery()),
        else_=sent(received, "received").scalar_subquery(),
    )
    return func.coalesce(by_deadline, by_acknowledgement)


def _latest_extension(stage: str) -> ColumnElement[str]:
    return (
        select(AuditEntry.details["until"].as_string())
        .where(
            AuditEntry.item_id == Item.id,
            AuditEntry.action == "extended",
            AuditEntry.details["stage"].as_string() == stage,
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
        .correlate(Item)
        .scalar_subquery()
    )


def complaint_responses(session: Session, window: Window, stage: str) -> list[ResponseGroup]:
    """CH02: complaints whose first response at `stage` was in the window, grouped by the days the
    Code's clock needs (entered, acknowledged, responded) and any agreed extension."""
    entered_day = london_date(stage_entered_at(Item.id, literal(stage)))
    acknowledged_day = london_date(_stage_acknowledged_at(stage))
    responded_day = london_date(Deadline.met_at)
    extension = _latest_extension(stage)
    query = (
        select(entered_day, acknowledged_day, responded_day, extension, func.count())
        .select_from(Deadline)
        .join(Item, Item.id == Deadline.item_id)
        .where(
            Deadline.kind == "respond",
            Deadline.stage == stage,
            _within(Deadline.met_at, window),
            _first_met(Deadline),
            Item.type == COMPLAINT,
            Item.case_id.is_(None),
        )
        .group_by(entered_day, acknowledged_day, responded_day, extension)
    )
    return [ResponseGroup(*row) for row in session.execute(query)]


def explain(session: Session, query: Select[Any]) -> Sequence[str]:
    """The database's plan for a query (used by the benchmark to check indexes are used)."""
    dialect = session.get_bind().dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    from sqlalchemy import text

    return [str(row[-1]) for row in session.execute(text(prefix + str(compiled)))]
