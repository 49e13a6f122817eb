"""The reports' SQL (SQLAlchemy Core), the same on SQLite and PostgreSQL. The Tenant Satisfaction
Measures' queries are intake/reports/queries_tsm.py.

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

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from intake import deadlines as deadline_rules
from intake.reports.local_dates import json_list_has, london_date
from models import Acknowledgement, AuditEntry, Correction, Deadline, Item
from models.base import UTCDateTime
from triage_rules.policies import STAGE_IDS
from triage_rules.taxonomy import CATEGORIES, FLAGS

COMPLAINT = "complaint"
# Deadlines that are not the landlord's to meet, or that are met by another row: never "overdue".
# Owned by intake/deadlines.py, so the queue, the sidebar and these reports count alike.
NOT_OVERDUE_KINDS = deadline_rules.NOT_OVERDUE_KINDS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A column of a mapped class or any SQL expression.
Expression = ColumnElement[Any] | QueryableAttribute[Any]


class Window(NamedTuple):
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


def prepare_session(session: Session) -> None:
    """PostgreSQL's JIT compiler costs seconds on these grouped queries and saves milliseconds: the
    planner's estimates for the per-row look-ups are high enough to trigger it. Off for this
    transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def within(column: Expression, window: Window) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


def _is_case() -> ColumnElement[bool]:
    return and_(Item.case_id.is_(None), Item.queue.is_not(None))


def has_label(json_list: Expression, label: str) -> ColumnElement[bool]:
    """A JSON list column (or a JSON path into one) contains `label`."""
    return json_list_has(json_list, label)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- when a complaint entered a stage -------------------------------------------------------


def became_complaint_start(audit: Any, trigger: Any) -> ColumnElement[datetime]:
    """When a non-complaint became one: the receipt of the message that made it one (a follow-up,
    or the item itself when staff corrected its type), else the moment it changed."""
    return func.coalesce(trigger.received_at, audit.at)


def _latest_became_complaint() -> Any:
    """(item_id, started_at) of each item's latest `became_complaint` — a small set, joined, not
    looked up row by row."""
    audit, trigger, later = aliased(AuditEntry), aliased(Item), aliased(AuditEntry)
    return (
        select(audit.item_id.label("item_id"), became_complaint_start(audit, trigger).label("started_at"))
        .select_from(audit)
        .outerjoin(trigger, trigger.id == audit.details["trigger_item"].as_integer())
        .where(
            audit.action == "became_complaint",
            ~exists().where(
                later.item_id == audit.item_id,
                later.action == "became_complaint",
                or_(later.at > audit.at, and_(later.at == audit.at, later.id > audit.id)),
            ),
        )
        .subquery("became_complaint")
    )


def _escalations() -> Any:
    """(item_id, stage, escalated_at): the acknowledgement row planned when a complaint was escalated
    into a stage (its purpose is the stage's id)."""
    return (
        select(
            Acknowledgement.item_id.label("item_id"),
            Acknowledgement.purpose.label("stage"),
            Acknowledgement.created_at.label("escalated_at"),
        )
        .where(Acknowledgement.purpose.in_(STAGE_IDS))
        .subquery("escalations")
    )


@dataclass(frozen=True)
class StageEntry:
    """What `with_stage_entry` adds to a query: the expression for when the item entered the stage."""

    query: Any  # a Select with the joins added
    entered_at: ColumnElement[datetime]


def with_stage_entry(query: Any, item_id: Expression, stage: Expression) -> StageEntry:
    """Join what is needed to say when the item entered `stage` (the query must already have Item).

    Its current stage: `stage_started_at`, which the case code sets as below. A stage it has left:
    the escalation into it (its stage acknowledgement is planned in the same transaction), else —
    its first stage — when it became a complaint, else its receipt. No stage: receipt."""
    escalations, became = _escalations(), _latest_became_complaint()
    joined = query.outerjoin(
        escalations, and_(escalations.c.item_id == item_id, escalations.c.stage == stage)
    ).outerjoin(became, became.c.item_id == item_id)
    entered_at = case(
        (stage.is_(None), Item.received_at),
        (and_(Item.complaint_stage == stage, Item.stage_started_at.is_not(None)), Item.stage_started_at),
        else_=func.coalesce(escalations.c.escalated_at, became.c.started_at, Item.received_at),
    )
    return StageEntry(joined, entered_at)


def _met_before(row: Any, since: ColumnElement[datetime] | None = None) -> ColumnElement[bool]:
    """Another row of the same (item, kind, stage) was met before `row` (or at or after `since`).

    Only superseded rows need looking at: `met_at` is set on current rows only, and a row is
    superseded when its successor is made, so an earlier-met sibling is always a superseded one
    (a small set, with its own partial index)."""
    earlier = aliased(Deadline)
    when = (
        or_(earlier.met_at < row.met_at, and_(earlier.met_at == row.met_at, earlier.id < row.id))
        if since is None
        else earlier.met_at >= since
    )
    return exists().where(
        earlier.item_id == row.item_id,
        earlier.kind == row.kind,
        earlier.stage.is_not_distinct_from(row.stage),
        earlier.superseded_at.is_not(None),
        earlier.met_at.is_not(None),
        earlier.id != row.id,
        when,
    )


def first_met(row: type[Deadline] | Any) -> ColumnElement[bool]:
    """No earlier met row of the same (item, kind, stage)."""
    return ~_met_before(row)


# --- volumes ------------------------------------------------------------------------------


class DayTypeChannel(NamedTuple):
    day: date
    type: str | None
    channel: str
    cases: int


class QueueType(NamedTuple):
    queue: str | None
    type: str | None
    cases: int


class DayCases(NamedTuple):
    """New cases received on a London day with this type, channel and queue (volume, service areas)."""

    day: date
    type: str | None
    channel: str
    queue: str | None
    cases: int


def cases_by_day(session: Session, window: Window) -> list[DayCases]:
    day = london_date(Item.received_at)
    query = (
        select(day, Item.type, Item.channel, Item.queue, func.count())
        .where(within(Item.received_at, window), _is_case())
        .group_by(day, Item.type, Item.channel, Item.queue)
    )
    return [DayCases(*row) for row in session.execute(query)]


class CategoryCounts(NamedTuple):
    complaints: int
    uncategorised: int
    by_category: dict[str, int]


def complaint_categories_by_day(session: Session, window: Window) -> dict[date, CategoryCounts]:
    """Complaints received on each London day, and how many had each category (or none)."""
    day = london_date(Item.received_at)
    labelled = or_(*(has_label(Item.categories, category) for category in CATEGORIES))
    columns: list[ColumnElement[Any]] = [day, func.count(), _count_if(~labelled)]
    columns += [_count_if(has_label(Item.categories, category)) for category in CATEGORIES]
    query = (
        select(*columns)
        .where(within(Item.received_at, window), _is_case(), Item.type == COMPLAINT)
        .group_by(day)
    )
    found: dict[date, CategoryCounts] = {}
    for received, total, uncategorised, *counts in session.execute(query):
        found[received] = CategoryCounts(
            int(total), int(uncategorised), dict(zip(CATEGORIES, map(int, counts), strict=True))
        )
    return found


# --- timeliness ---------------------------------------------------------------------------


class MetGroup(NamedTuple):
    kind: str
    type: str | None
    stage: str | None
    entered_day: date
    met_day: date
    met: int
    in_target: int


def first_met_deadlines(session: Session, window: Window) -> list[MetGroup]:
    """Deadlines first met in the window, grouped by (kind, type, stage, entered day, met day)."""
    base = (
        select(Deadline.kind, Item.type, Deadline.stage, Deadline.met_at, Deadline.due_at)
        .join(Item, Item.id == Deadline.item_id)
        .where(within(Deadline.met_at, window), first_met(Deadline))
    )
    entry = with_stage_entry(base, Deadline.item_id, Deadline.stage)
    rows = (
        entry.query.with_only_columns(
            Deadline.kind.label("kind"),
            Item.type.label("type"),
            Deadline.stage.label("stage"),
            london_date(entry.entered_at).label("entered_day"),
            london_date(Deadline.met_at).label("met_day"),
            case((Deadline.met_at <= Deadline.due_at, 1), else_=0).label("in_target"),
            maintain_column_froms=True,
        )
    ).subquery("met")
    keys = (rows.c.kind, rows.c.type, rows.c.stage, rows.c.entered_day, rows.c.met_day)
    query = select(*keys, func.count(), func.sum(rows.c.in_target)).group_by(*keys)
    return [MetGroup(*row) for row in session.execute(query)]


class OverdueGroup(NamedTuple):
    queue: str | None
    kind: str
    stage: str | None
    due_day: date
    overdue: int


def overdue_deadlines(session: Session, now: datetime) -> list[OverdueGroup]:
    """Current deadlines past due and not met on open cases, grouped by (queue, kind, stage, due day).

    A deadline already met by an earlier row of the same kind and stage is not outstanding (a
    recomputation makes new rows without their `met_at`) — except a response after the case was
    reopened: reopening asks for a new response, not a new acknowledgement.
    """
    reopened = (
        select(func.max(AuditEntry.at))
        .where(AuditEntry.item_id == Deadline.item_id, AuditEntry.action == "reopened")
        .correlate(Deadline)
        .scalar_subquery()
    )
    epoch = literal(EPOCH, UTCDateTime())
    counts_from = case((Deadline.kind == "acknowledge", epoch), else_=func.coalesce(reopened, epoch))
    already_met = _met_before(Deadline, since=counts_from)
    due_day = london_date(Deadline.due_at)
    query = (
        select(Item.queue, Deadline.kind, Deadline.stage, due_day, func.count())
        .join(Item, Item.id == Deadline.item_id)
        .where(
            Deadline.superseded_at.is_(None),
            Deadline.met_at.is_(None),
            Deadline.due_at < now,
            Deadline.kind.not_in(NOT_OVERDUE_KINDS),
            Item.case_id.is_(None),
            Item.case_status == "open",
            ~already_met,
        )
        .group_by(Item.queue, Deadline.kind, Deadline.stage, due_day)
    )
    return [OverdueGroup(*row) for row in session.execute(query)]


def overdue_case_ids(session: Session, now: datetime) -> list[int]:
    """Open cases with at least one overdue deadline: the same condition as the queue's sidebar."""
    return list(session.scalars(select(Item.id).where(deadline_rules.overdue_case_condition(now))))


def overdue_case_count(session: Session, now: datetime) -> int:
    """How many cases `overdue_case_ids` finds, counted in the database."""
    return session.scalar(select(func.count()).where(deadline_rules.overdue_case_condition(now))) or 0


# --- outcomes -----------------------------------------------------------------------------


class OutcomeGroup(NamedTuple):
    type: str | None
    outcome: str | None
    closed: int
    with_remedy: int


class DayOutcomes(NamedTuple):
    day: date  # the London day the case was closed
    type: str | None
    outcome: str | None
    closed: int
    with_remedy: int


def outcomes_closed_by_day(session: Session, window: Window) -> list[DayOutcomes]:
    remedy = Item.details["remedy"].as_string()
    rows = (
        select(
            london_date(Item.closed_at).label("day"),
            Item.type.label("type"),
            func.lower(func.trim(Item.outcome)).label("outcome"),
            case((and_(remedy.is_not(None), remedy != ""), 1), else_=0).label("with_remedy"),
        )
        .where(within(Item.closed_at, window), Item.case_id.is_(None))
        .subquery("closed")
    )
    keys = (rows.c.day, rows.c.type, rows.c.outcome)
    query = select(*keys, func.count(), func.sum(rows.c.with_remedy)).group_by(*keys)
    return [DayOutcomes(*row) for row in session.execute(query)]


# --- corrections --------------------------------------------------------------------------


class TypeCorrection(NamedTuple):
    model_type: str | None  # what the classifier said
    final_type: str | None  # what the item is now
    items: int
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


# Staff actions on an item that mean a person read it: its labels stood (or were corrected).
REVIEWING_ACTIONS = (
    "corrected", "assigned", "escalated", "extended", "response_recorded", "closed", "reopened",
    "made_safe", "hazard_inspected", "called_back", "meeting_arranged", "review_meeting_notified",
    "hearing_held", "case_split", "case_merged",
)


def reviewed_by_staff() -> ColumnElement[bool]:
    """The item (or its case) was corrected or acted on by a person: an unreviewed label is no
    evidence the classifier was right, so "kept by staff" counts only reviewed items."""
    return or_(
        exists().where(Correction.item_id == Item.id),
        exists().where(
            or_(AuditEntry.item_id == Item.id, AuditEntry.item_id == Item.case_id),
            AuditEntry.action.in_(REVIEWING_ACTIONS),
        ),
    )


def classifier_corrections_by_day(session: Session, window: Window) -> dict[date, CorrectionCounts]:
    """Items the classifier labelled and staff reviewed, per London day received: its labels (from each
    item's first correction's `before`, or the item's own labels when nobody corrected it) against
    the item's labels now.

    Two passes, so the many uncorrected items are only counted: one over the whole cohort (labels
    now), one over the corrected few (labels before and now)."""
    plan = _CORRECTION_PLAN
    cohort_query, corrected_types_query, deltas_query = _corrections_statements()
    bounds = {"window_start": window.start, "window_end": window.end}
    now_counts: dict[date, list[int]] = {}
    type_counts: dict[date, dict[str | None, int]] = {}
    for received, item_type, count, *labels in session.execute(cohort_query, bounds):
        type_counts.setdefault(received, {})[item_type] = int(count)
        day_labels = now_counts.setdefault(received, [0] * len(labels))
        for index, value in enumerate(labels):
            day_labels[index] += int(value)
    corrected_types: dict[date, list[tuple[str | None, str | None, int]]] = {}
    for received, model, final, count in session.execute(corrected_types_query, bounds):
        corrected_types.setdefault(received, []).append((model, final, int(count)))
    deltas = {row[0]: row[1:] for row in session.execute(deltas_query, bounds)}
    no_deltas = (0,) * (3 * len(plan))
    return {
        received: _correction_counts(
            plan,
            type_counts.get(received, {}),
            corrected_types.get(received, []),
            now_counts[received],
            deltas.get(received, no_deltas),
        )
        for received in now_counts
    }


_CORRECTION_PLAN: list[tuple[str, str, str, Any]] = [
    ("category", "categories", label, Item.categories) for label in CATEGORIES
] + [("flag", "flags", label, Item.flags) for label in FLAGS]


@cache
def _corrections_statements() -> tuple[Any, Any, Any]:
    """The three statements of `classifier_corrections_by_day`, built once with the window as bound
    parameters: they are large (three counts per label), and building them afresh cost more CPU than
    running them when the facts of a day or two are refreshed after a change. Each item's first
    correction is found per item (an index look-up for the items in the window), not by grouping
    every correction ever made."""
    day = london_date(Item.received_at)
    received = and_(
        Item.received_at >= bindparam("window_start", type_=UTCDateTime()),
        Item.received_at < bindparam("window_end", type_=UTCDateTime()),
    )
    cohort = and_(received, Item.model_version.is_not(None), reviewed_by_staff())
    plan = _CORRECTION_PLAN

    # The cohort once: per (day, type) its size and its labels now.
    cohort_query = (
        select(day, Item.type, func.count(), *(_count_if(has_label(c, label)) for _, _, label, c in plan))
        .where(cohort)
        .group_by(day, Item.type)
    )

    correction, earlier = aliased(Correction), aliased(Correction)
    first_correction = and_(
        correction.item_id == Item.id,
        ~exists().where(earlier.item_id == correction.item_id, earlier.id < correction.id),
    )
    before_type = correction.before["type"].as_string()
    model_type = func.coalesce(before_type, Item.type)
    labelled = (
        select(day.label("day"), model_type.label("model_type"), Item.type.label("final_type"))
        .select_from(Item)
        .join(correction, first_correction)
        .where(cohort)
        .subquery("corrected")
    )
    keys = (labelled.c.day, labelled.c.model_type, labelled.c.final_type)
    corrected_types_query = select(*keys, func.count()).group_by(*keys)
    columns: list[ColumnElement[Any]] = [day]
    for _, key, label, column in plan:
        before = correction.before[key]
        final_has = has_label(column, label)
        model_has = case((before.as_string().is_not(None), has_label(before, label)), else_=final_has)
        columns += [
            _count_if(and_(model_has, final_has)),
            _count_if(and_(model_has, ~final_has)),
            _count_if(and_(~model_has, final_has)),
        ]
    deltas_query = (
        select(*columns).select_from(Item).join(correction, first_correction).where(cohort).group_by(day)
    )
    return cohort_query, corrected_types_query, deltas_query


def _correction_counts(
    plan: list[tuple[str, str, str, Any]],
    type_counts: dict[str | None, int],
    corrected_types: list[tuple[str | None, str | None, int]],
    now_counts: Any,
    deltas: Any,
) -> CorrectionCounts:
    """One day's cohort: the corrected few's labels before and now, the rest's labels as they stand."""
    types: list[TypeCorrection] = []
    corrected_final: Counter[str | None] = Counter()
    for model, final, count in corrected_types:
        types.append(TypeCorrection(model, final, count, count))
        corrected_final[final] += count
    for item_type, count in type_counts.items():
        untouched = count - corrected_final[item_type]
        if untouched:
            types.append(TypeCorrection(item_type, item_type, untouched, 0))

    labels_found = []
    for index, (group, _, label, _) in enumerate(plan):
        kept_corrected, removed, added = (int(v) for v in deltas[3 * index : 3 * index + 3])
        kept_untouched = int(now_counts[index]) - kept_corrected - added
        labels_found.append(LabelAgreement(group, label, kept_untouched + kept_corrected, removed, added))
    return CorrectionCounts(types, labels_found)


def latest_received_at(session: Session, before: datetime) -> datetime | None:
    """When the newest item received by `before` arrived (None: no items yet)."""
    return session.scalar(select(func.max(Item.received_at)).where(Item.received_at <= before))
