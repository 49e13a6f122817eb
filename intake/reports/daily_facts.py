"""The reports' daily facts: computed from the tables one London day at a time, read per period.

A period's report sums the facts of its days (models/report_facts.py: `report_daily_facts`), so a
financial year reads a few thousand grouped rows instead of a million items. Each fact is what the
grouped queries of intake/reports/queries.py and queries_tsm.py return for that day — the same
SQL, run over a day's (or a run of days') bounds — so a report from the facts equals the report from
the tables, count for count.

What each measure keeps in the table's generic columns (`day` is always the London day it is
filed under):

| measure | day | label_1, label_2, label_3 | day_1, day_2 | count_1, count_2, count_3 |
|---|---|---|---|---|
| cases | received | type, channel, queue | | cases |
| complaints | received | | | complaints, uncategorised |
| categories | received | category | | complaints with it |
| met | first met | kind, type, stage | | met, in target, working days taken |
| closed | closed | type, outcome | | closed, with a remedy |
| type_agreement | received | model's type, type now | | items, corrected |
| label_agreement | received | group, label | | kept, removed, added |
| stage_entries | entered stage | stage | | complaints |
| responses | first response | stage | | responses, within the Code's timescales |
| calendar | 0001-01-01 | the nation whose working days the two above used | | |

Working days are worked out when the facts are computed, with the landlord's calendar (the nation
is kept in the `calendar` row; another nation rebuilds every day), so a year's timeliness and CH02
sum a few hundred rows in the database instead of walking tens of thousands of day pairs.

Keeping them fresh: `refresh` recomputes the days named by `report_fact_marks` (the items changed
since, resolved to every day their rows are filed under, and days a timestamp moved away from), in
runs of consecutive days, then deletes the marks it read. `build_report` calls it before reading;
the worker's sweep calls it every ten minutes, so a report read seldom has much left to do.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, delete, func, insert, select, text, union
from sqlalchemy.orm import Session, aliased

from intake.reports import queries, queries_tsm
from intake.reports.local_dates import london_date
from intake.reports.periods import Period, london_midnight
from intake.reports.timescales import TSM_STAGES, WorkingDayCounter, code_timescales
from models import Acknowledgement, AuditEntry, Deadline, Item
from models.report_facts import ReportDailyFact, ReportFactMark, london_day, mark_everything
from triage_rules.policies import STAGE_IDS
from triage_rules.taxonomy import CATEGORIES, FLAGS
from triage_rules.working_days import WorkingCalendar

FACTS = cast(Table, ReportDailyFact.__table__)
# Everything the tables can hold, for a rebuild (a report period never reaches these years).
ALL_TIME = queries.Window(queries.EPOCH, datetime(3000, 1, 1, tzinfo=UTC))
# Dirty days this close together are recomputed as one run: one query per measure, not per day.
RUN_GAP_DAYS = 7
# One lock for every refresher, so two never write the same day's facts at once (PostgreSQL).
ADVISORY_LOCK = 7_310_811
ID_CHUNK = 500
# The row that says which nation's working days the facts use: a day no report period reaches.
CALENDAR_DAY = date(1, 1, 1)

Fact = dict[str, Any]


def _fact(
    measure: str,
    day: date,
    *labels: str | None,
    days: tuple[date | None, ...] = (),
    counts: Iterable[int] = (),
) -> Fact:
    row: Fact = {"measure": measure, "day": day, "day_1": None, "day_2": None}
    for index in range(3):
        row[f"label_{index + 1}"] = labels[index] if index < len(labels) else None
    for index, value in enumerate(days):
        row[f"day_{index + 1}"] = value
    values = [int(v or 0) for v in counts]
    for index in range(3):
        row[f"count_{index + 1}"] = values[index] if index < len(values) else 0
    return row


# --- computing a window's facts from the tables ---------------------------------------------


def _cases(session: Session, window: queries.Window) -> Iterator[Fact]:
    for row in queries.cases_by_day(session, window):
        yield _fact("cases", row.day, row.type, row.channel, row.queue, counts=(row.cases,))


def _categories(session: Session, window: queries.Window) -> Iterator[Fact]:
    for day, found in queries.complaint_categories_by_day(session, window).items():
        yield _fact("complaints", day, counts=(found.complaints, found.uncategorised))
        for category, count in found.by_category.items():
            if count:
                yield _fact("categories", day, category, counts=(count,))


def _met(session: Session, window: queries.Window, days: WorkingDayCounter) -> Iterator[Fact]:
    grouped: Counter[tuple[date, str, str | None, str | None, int]] = Counter()
    in_target: Counter[tuple[date, str, str | None, str | None, int]] = Counter()
    for row in queries.first_met_deadlines(session, window):
        key = (row.met_day, row.kind, row.type, row.stage, days.elapsed(row.entered_day, row.met_day))
        grouped[key] += int(row.met)
        in_target[key] += int(row.in_target or 0)
    for key, met in grouped.items():
        met_day, kind, item_type, stage, taken = key
        yield _fact("met", met_day, kind, item_type, stage, counts=(met, in_target[key], taken))


def _closed(session: Session, window: queries.Window) -> Iterator[Fact]:
    for row in queries.outcomes_closed_by_day(session, window):
        yield _fact("closed", row.day, row.type, row.outcome, counts=(row.closed, row.with_remedy))


def _corrections(session: Session, window: queries.Window) -> Iterator[Fact]:
    for day, found in queries.classifier_corrections_by_day(session, window).items():
        for group in found.types:
            yield _fact(
                "type_agreement",
                day,
                group.model_type,
                group.final_type,
                counts=(group.items, group.corrected),
            )
        for label in found.labels:
            if label.kept or label.removed or label.added:
                yield _fact(
                    "label_agreement",
                    day,
                    label.group,
                    label.label,
                    counts=(label.kept, label.removed, label.added),
                )


def _stage_entries(session: Session, window: queries.Window) -> Iterator[Fact]:
    for stage in TSM_STAGES:
        for day, count in queries_tsm.complaints_entering_stage_by_day(session, window, stage).items():
            yield _fact("stage_entries", day, stage, counts=(count,))


def _responses(session: Session, window: queries.Window, days: WorkingDayCounter) -> Iterator[Fact]:
    """CH02's responses, each already judged against the Code's timescales (measures/tsm.py says how)."""
    code = code_timescales()
    responded: Counter[tuple[date, str]] = Counter()
    in_time: Counter[tuple[date, str]] = Counter()
    for row in queries_tsm.complaint_responses(session, window, TSM_STAGES):
        due = code[row.stage].due_day(
            days,
            entered=row.entered_day,
            acknowledged=row.acknowledged_day,
            extended_until=_extension_day(row.extended_until),
        )
        responded[(row.responded_day, row.stage)] += int(row.responses)
        in_time[(row.responded_day, row.stage)] += int(row.responses) if row.responded_day <= due else 0
    for key, count in responded.items():
        yield _fact("responses", key[0], key[1], counts=(count, in_time[key]))


def _extension_day(value: str | None) -> date | None:
    """The London day of an extension's new date, stored in the audit log as ISO text."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return london_day(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


COMPUTE: tuple[Callable[[Session, queries.Window], Iterator[Fact]], ...] = (
    _cases,
    _categories,
    _closed,
    _corrections,
    _stage_entries,
)
# The measures that count working days, with the landlord's calendar.
COMPUTE_WITH_CALENDAR: tuple[Callable[[Session, queries.Window, WorkingDayCounter], Iterator[Fact]], ...] = (
    _met,
    _responses,
)


# --- keeping them fresh ---------------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    marks: int  # marks read (and deleted)
    days: int  # days recomputed
    rebuilt: bool  # every day was recomputed
    facts: int  # fact rows written


def _calendar_used(session: Session) -> str | None:
    return session.scalar(
        select(FACTS.c.label_1).where(FACTS.c.measure == "calendar", FACTS.c.day == CALENDAR_DAY)
    )


def refresh(session: Session, calendar: WorkingCalendar) -> Refreshed:
    """Recompute the days the marks name and delete those marks; the caller commits.

    Cheap when nothing changed (two indexed look-ups). Under a transaction-scoped advisory lock on
    PostgreSQL, so concurrent report reads and the sweep never write the same day twice; SQLite
    lets one writer in at a time anyway."""
    same_calendar = _calendar_used(session) == calendar.nation
    if same_calendar and session.scalar(select(ReportFactMark.id).limit(1)) is None:
        return Refreshed(0, 0, False, 0)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    same_calendar = _calendar_used(session) == calendar.nation
    marks = session.execute(select(ReportFactMark.id, ReportFactMark.item_id, ReportFactMark.day)).all()
    if same_calendar and not marks:  # another refresher took them while this one waited for the lock
        return Refreshed(0, 0, False, 0)
    counter = WorkingDayCounter(calendar)
    rebuild = not same_calendar or any(item_id is None and day is None for _, item_id, day in marks)
    if rebuild:
        session.execute(delete(FACTS))
        written = _write(session, ALL_TIME, counter)
        session.execute(insert(FACTS), [_fact("calendar", CALENDAR_DAY, calendar.nation)])
        days = session.scalar(select(func.count(func.distinct(FACTS.c.day)))) or 0
    else:
        stale = {day for _, item_id, day in marks if day is not None}
        stale |= _days_of_items(session, {item_id for _, item_id, _ in marks if item_id is not None})
        written = 0
        for first, last in _runs(stale):
            session.execute(delete(FACTS).where(FACTS.c.day >= first, FACTS.c.day <= last))
            window = queries.Window(london_midnight(first), london_midnight(last + timedelta(days=1)))
            written += _write(session, window, counter)
        days = len(stale)
    ids = [mark_id for mark_id, _, _ in marks]
    for start in range(0, len(ids), ID_CHUNK):
        session.execute(delete(ReportFactMark).where(ReportFactMark.id.in_(ids[start : start + ID_CHUNK])))
    return Refreshed(len(marks), days, rebuild, written)


def _write(session: Session, window: queries.Window, counter: WorkingDayCounter) -> int:
    written = 0
    computed = [compute(session, window) for compute in COMPUTE]
    computed += [compute(session, window, counter) for compute in COMPUTE_WITH_CALENDAR]
    for facts in computed:
        rows = list(facts)
        for start in range(0, len(rows), 5000):
            session.execute(insert(FACTS), rows[start : start + 5000])
        written += len(rows)
    return written


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive (or nearly: gaps up to RUN_GAP_DAYS) days as (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days <= RUN_GAP_DAYS:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _days_of_items(session: Session, item_ids: set[int]) -> set[date]:
    """Every London day a fact about these items is filed under, as the tables stand now."""
    found: set[date] = set()
    ordered = sorted(item_ids)
    for start in range(0, len(ordered), ID_CHUNK):
        chunk = ordered[start : start + ID_CHUNK]
        audit, trigger = aliased(AuditEntry), aliased(Item)
        parts = (
            select(london_date(Item.received_at).label("day")).where(Item.id.in_(chunk)),
            select(london_date(Item.closed_at)).where(Item.id.in_(chunk), Item.closed_at.is_not(None)),
            # a follow-up's review counts through its case's audit entries (corrections)
            select(london_date(Item.received_at)).where(Item.case_id.in_(chunk)),
            select(london_date(Deadline.met_at)).where(
                Deadline.item_id.in_(chunk), Deadline.met_at.is_not(None)
            ),
            select(london_date(Acknowledgement.created_at)).where(
                Acknowledgement.item_id.in_(chunk), Acknowledgement.purpose.in_(STAGE_IDS)
            ),
            select(london_date(queries.became_complaint_start(audit, trigger)))
            .select_from(audit)
            .outerjoin(trigger, trigger.id == audit.details["trigger_item"].as_integer())
            .where(audit.item_id.in_(chunk), audit.action == "became_complaint"),
        )
        found.update(day for day in session.scalars(union(*parts)) if day is not None)
    return found


def rebuild_all(session: Session, calendar: WorkingCalendar) -> Refreshed:
    """Recompute every day (after a bulk load that bypassed the ORM, or on request)."""
    mark_everything(session)
    return refresh(session, calendar)


# --- reading a period's facts ---------------------------------------------------------------


def _sums(session: Session, measure: str, period: Period, keys: tuple[str, ...], counts: int) -> list[Any]:
    """The measure's facts in the period, summed per `keys` (column names): the one period loop."""
    key_columns = [FACTS.c[name] for name in keys]
    sums = [func.sum(FACTS.c[f"count_{n + 1}"]) for n in range(counts)]
    query = (
        select(*key_columns, *sums)
        .where(FACTS.c.measure == measure, FACTS.c.day >= period.first_day, FACTS.c.day <= period.last_day)
        .group_by(*key_columns)
    )
    return [tuple(row) for row in session.execute(query)]


def cases_by_day_type_channel(session: Session, period: Period) -> list[queries.DayTypeChannel]:
    return [
        queries.DayTypeChannel(day, item_type, channel, int(cases))
        for day, item_type, channel, cases in _sums(
            session, "cases", period, ("day", "label_1", "label_2"), 1
        )
    ]


def cases_by_queue_and_type(session: Session, period: Period) -> list[queries.QueueType]:
    return [
        queries.QueueType(queue, item_type, int(cases))
        for queue, item_type, cases in _sums(session, "cases", period, ("label_3", "label_1"), 1)
    ]


def complaint_categories(session: Session, period: Period) -> queries.CategoryCounts:
    totals = _sums(session, "complaints", period, (), 2)
    complaints, uncategorised = (int(v or 0) for v in totals[0]) if totals else (0, 0)
    by_category = dict.fromkeys(CATEGORIES, 0)
    for category, count in _sums(session, "categories", period, ("label_1",), 1):
        by_category[category] = int(count)
    return queries.CategoryCounts(complaints, uncategorised, by_category)


class MetSpread(NamedTuple):
    """Deadlines first met in a period that took `working_days` to meet, per (kind, type, stage)."""

    kind: str
    type: str | None
    stage: str | None
    working_days: int
    met: int
    in_target: int


def first_met_deadlines(session: Session, period: Period) -> list[MetSpread]:
    keys = ("label_1", "label_2", "label_3", "count_3")
    return [
        MetSpread(kind, item_type, stage, int(taken), int(met), int(in_target))
        for kind, item_type, stage, taken, met, in_target in _sums(session, "met", period, keys, 2)
    ]


def outcomes_closed(session: Session, period: Period) -> list[queries.OutcomeGroup]:
    return [
        queries.OutcomeGroup(item_type, outcome, int(closed), int(with_remedy))
        for item_type, outcome, closed, with_remedy in _sums(
            session, "closed", period, ("label_1", "label_2"), 2
        )
    ]


def classifier_corrections(session: Session, period: Period) -> queries.CorrectionCounts:
    types = [
        queries.TypeCorrection(model, final, int(items), int(corrected))
        for model, final, items, corrected in _sums(
            session, "type_agreement", period, ("label_1", "label_2"), 2
        )
    ]
    found = {
        (group, label): (int(kept), int(removed), int(added))
        for group, label, kept, removed, added in _sums(
            session, "label_agreement", period, ("label_1", "label_2"), 3
        )
    }
    plan = [("category", label) for label in CATEGORIES] + [("flag", label) for label in FLAGS]
    labels = [
        queries.LabelAgreement(group, label, *found.get((group, label), (0, 0, 0))) for group, label in plan
    ]
    return queries.CorrectionCounts(types, labels)


def complaints_entering_stage(session: Session, period: Period) -> Counter[str]:
    return Counter(
        {stage: int(count) for stage, count in _sums(session, "stage_entries", period, ("label_1",), 1)}
    )


def complaint_responses(session: Session, period: Period) -> dict[str, tuple[int, int]]:
    """(responded, within the Code's timescales) per stage, for CH02."""
    return {
        stage: (int(responded), int(in_time))
        for stage, responded, in_time in _sums(session, "responses", period, ("label_1",), 2)
    }


def days_by_measure(session: Session) -> dict[str, int]:
    """How many days each measure has facts for (the bench and the CLI say so)."""
    counts: defaultdict[str, int] = defaultdict(int)
    query = select(FACTS.c.measure, func.count(func.distinct(FACTS.c.day))).group_by(FACTS.c.measure)
    for measure, days in session.execute(query):
        counts[measure] = int(days)
    return dict(counts)
