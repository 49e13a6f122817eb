"""One function per report view: grouped rows from `queries` in, a typed `ReportTable` out.

Working days, percentiles and the Code's timescales are worked out here on the grouped rows, with
the landlord's own `WorkingCalendar`. `build_view` / `build_report` open a read-only unit of work on
the runtime's database; the view functions themselves take what they need as keywords.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from intake.reports import queries
from intake.reports.errors import UnknownView
from intake.reports.periods import Period, london_day
from intake.reports.tables import Cell, Chart, Column, ReportTable
from intake.reports.timescales import (
    TSM_STAGES,
    CodeTimescale,
    Distribution,
    WorkingDayCounter,
    code_timescales,
)
from intake.runtime import Runtime
from triage_rules.policies import PolicyProfile, Target
from triage_rules.taxonomy import CHANNELS, QUEUES, TYPES
from triage_rules.working_days import WorkingCalendar

UNCLASSIFIED = "unclassified"
TYPE_COLUMNS = (*TYPES, UNCLASSIFIED)
KIND_ORDER = ("acknowledge", "respond", "make_safe", "investigate_hazard")
OVERDUE_BANDS = ((1, 5, "1–5 working days"), (6, 10, "6–10 working days"), (11, None, "over 10 working days"))
HAZARD_TARGETS = {
    "make_safe": "24 hours of receipt (Awaab's Law)",
    "investigate_hazard": "10 working days of receipt (Awaab's Law)",
}
NO_OUTCOME = "(no outcome recorded)"
MAX_OUTCOMES_PER_TYPE = 12


def _window(period: Period) -> queries.Window:
    return queries.Window(period.start, period.end)


def _words(value: str | None) -> str:
    return (value or "").replace("_", " ")


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _as_number(cell: Cell) -> float:
    """A cell as a number for a chart or a total (empty and text cells count as 0)."""
    return float(cell) if isinstance(cell, int | float) else 0.0


# --- volume -------------------------------------------------------------------------------


def volume(*, session: Session, period: Period) -> ReportTable:
    """New cases by type and channel for each day, week or month of the period."""
    buckets = period.buckets()
    counts: Counter[tuple[int, str, str]] = Counter()
    for row in queries.cases_by_day_type_channel(session, _window(period)):
        index = next(i for i, b in enumerate(buckets) if b.first_day <= row.day <= b.last_day)
        counts[(index, row.channel, row.type or UNCLASSIFIED)] += row.cases
    channels = [c for c in CHANNELS if any(key[1] == c for key in counts)]
    channels += sorted({key[1] for key in counts} - set(channels))
    rows: list[tuple[Cell, ...]] = []
    for index, bucket in enumerate(buckets):
        for channel in channels:
            by_type = [counts[(index, channel, t)] for t in TYPE_COLUMNS]
            if sum(by_type):
                rows.append((bucket.label, channel, *by_type, sum(by_type)))
    totals_by_type = {t: sum(v for (_, _, kind), v in counts.items() if kind == t) for t in TYPE_COLUMNS}
    for channel in channels:
        by_type = [
            sum(v for (_, c, kind), v in counts.items() if c == channel and kind == t) for t in TYPE_COLUMNS
        ]
        rows.append(("whole period", channel, *by_type, sum(by_type)))
    rows.append(("whole period", "all channels", *totals_by_type.values(), sum(totals_by_type.values())))
    chart_types = [t for t in TYPE_COLUMNS if totals_by_type[t]]
    chart = Chart(
        style="stacked",
        labels=tuple(b.label.removeprefix("w/c ") for b in buckets),
        series=tuple(
            (_words(t), tuple(float(sum(counts[(i, c, t)] for c in channels)) for i in range(len(buckets))))
            for t in chart_types
        ),
        title="New cases by type",
    )
    return ReportTable(
        view="volume",
        title="Volume by type and channel",
        period=period,
        columns=(
            Column("bucket", "Period"),
            Column("channel", "Channel"),
            *(Column(t, _words(t).capitalize(), "count") for t in TYPE_COLUMNS),
            Column("total", "Total", "count"),
        ),
        rows=tuple(rows),
        notes=(
            "New cases received in the period, by the London date they arrived. Follow-up messages on an "
            "existing case, SMS keywords (STOP, HELP) and bounce reports are not new cases.",
            "Types are the current ones: staff corrections are included.",
        ),
        chart=chart,
        totals={**totals_by_type, "total": sum(totals_by_type.values())},
    )


def service_areas(*, session: Session, period: Period) -> ReportTable:
    """New cases by the queue (team) they went to."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in queries.cases_by_queue_and_type(session, _window(period)):
        counts[row.queue or "(no queue)"][row.type or UNCLASSIFIED] += row.cases
    order = [q for q in QUEUES if q in counts] + sorted(set(counts) - set(QUEUES))
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (queue, *(counts[queue][t] for t in TYPE_COLUMNS), sum(counts[queue].values())) for queue in order
    )
    return ReportTable(
        view="service_areas",
        title="By service area (queue)",
        period=period,
        columns=(
            Column("queue", "Queue"),
            *(Column(t, _words(t).capitalize(), "count") for t in TYPE_COLUMNS),
            Column("total", "Total", "count"),
        ),
        rows=rows,
        notes=("The queue each new case is in now (routing, then any move by staff).",),
        chart=Chart(
            style="bar",
            labels=tuple(_words(q) for q in order),
            series=(("cases", tuple(float(sum(counts[q].values())) for q in order)),),
            title="New cases by queue",
        ),
    )


# --- complaint categories -----------------------------------------------------------------


def categories(*, session: Session, period: Period) -> ReportTable:
    found = queries.complaint_categories(session, _window(period))
    rows = [
        (category, count, _share(count, found.complaints))
        for category, count in sorted(found.by_category.items(), key=lambda pair: (-pair[1], pair[0]))
    ]
    rows.append(("(no category)", found.uncategorised, _share(found.uncategorised, found.complaints)))
    return ReportTable(
        view="categories",
        title="Complaint categories",
        period=period,
        columns=(
            Column("category", "Category"),
            Column("complaints", "Complaints", "count"),
            Column("share", "Share of complaints", "share"),
        ),
        rows=tuple(rows),
        notes=(
            f"{found.complaints} complaints received in the period. A complaint can have several "
            "categories, so the shares can add up to more than 100%.",
        ),
        chart=Chart(
            style="bar",
            labels=tuple(_words(str(r[0])) for r in rows),
            series=(("complaints", tuple(float(r[1]) for r in rows)),),
            title="Complaints by category",
        ),
        totals={"complaints": found.complaints},
    )


# --- acknowledgement and response times ---------------------------------------------------


def policy_target(policy: PolicyProfile, *, kind: str, item_type: str | None, stage: str | None) -> str:
    """The landlord's target for a deadline, in words ('10 working days of acknowledgement')."""
    if kind in HAZARD_TARGETS:
        return HAZARD_TARGETS[kind]
    target: Target | None = None
    if stage is not None and policy.has_stage(stage):
        target = policy.stage(stage).target(kind)
    elif item_type is not None and (targets := policy.type_targets(item_type)) is not None:
        target = dict(targets.deadlines).get(kind)
    return f"{target.describe()} ({target.clause})" if target is not None else ""


def timeliness(
    *, session: Session, period: Period, calendar: WorkingCalendar, policy: PolicyProfile
) -> ReportTable:
    """Time to acknowledge and to respond, in working days, against the policy's targets."""
    distributions: dict[tuple[str, str | None, str | None], Counter[int]] = defaultdict(Counter)
    in_target: Counter[tuple[str, str | None, str | None]] = Counter()
    for stage_id in ("stage_1", "stage_2"):
        if policy.has_stage(stage_id):
            for kind_id in ("acknowledge", "respond"):
                distributions[(kind_id, "complaint", stage_id)]  # always shown, even when nothing was met
    working_days = WorkingDayCounter(calendar)
    for group in queries.first_met_deadlines(session, _window(period)):
        key = (group.kind, group.type, group.stage)
        distributions[key][working_days.elapsed(group.entered_day, group.met_day)] += group.met
        in_target[key] += int(group.in_target or 0)
    rows: list[tuple[Cell, ...]] = []
    for key in sorted(distributions, key=_timeliness_order):
        kind, item_type, stage = key
        spread = Distribution(distributions[key])
        rows.append(
            (
                kind,
                item_type or UNCLASSIFIED,
                stage or "",
                policy_target(policy, kind=kind, item_type=item_type, stage=stage),
                spread.total,
                spread.median,
                spread.p90,
                in_target[key],
                _share(in_target[key], spread.total),
            )
        )
    return ReportTable(
        view="timeliness",
        title="Acknowledgement and response times",
        period=period,
        columns=(
            Column("measure", "Deadline"),
            Column("type", "Type"),
            Column("stage", "Stage"),
            Column("target", "Policy target"),
            Column("met", "Met in period", "count"),
            Column("median_working_days", "Median (working days)", "working_days"),
            Column("p90_working_days", "90th percentile (working days)", "working_days"),
            Column("in_target", "In target", "count"),
            Column("share_in_target", "Share in target", "share"),
        ),
        rows=tuple(rows),
        notes=(
            f"Against {policy.label}. Deadlines first met in the period; times run from receipt (or from "
            "the escalation request, for stage 2) to the acknowledgement sent or the response recorded, "
            "in working days (weekends and bank holidays do not count; a start on a non-working day "
            "counts from the next working day).",
            "In target: met on or before the deadline in force when it was met, which includes an "
            "extension agreed within the policy's limit.",
            "Median and 90th percentile are nearest-rank values in whole working days.",
        ),
        chart=Chart(
            style="bar",
            labels=tuple(_timeliness_label(str(r[0]), str(r[1]), str(r[2])) for r in rows),
            series=(("in target", tuple(100.0 * _as_number(r[8]) for r in rows)),),
            unit="%",
            title="Share in target",
        ),
    )


def _timeliness_label(kind: str, item_type: str, stage: str) -> str:
    """'ack. stage 1', 'response stage 2', 'make safe (service request)' — short enough for an axis."""
    short = {"acknowledge": "ack.", "respond": "response"}.get(kind, _words(kind))
    return f"{short} {_words(stage)}" if stage else f"{short} ({_words(item_type)})"


def _timeliness_order(key: tuple[str, str | None, str | None]) -> tuple[int, int, str, str]:
    kind, item_type, stage = key
    kind_rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    type_rank = TYPES.index(item_type) if item_type in TYPES else len(TYPES)
    return (
        type_rank,
        kind_rank if stage is None else 0,
        stage or "",
        kind if stage is None else str(kind_rank),
    )


# --- overdue now --------------------------------------------------------------------------


def overdue(*, session: Session, now: datetime, calendar: WorkingCalendar) -> ReportTable:
    today = london_day(now)
    grouped: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * len(OVERDUE_BANDS))
    oldest: dict[tuple[str, str, str], date] = {}
    working_days = WorkingDayCounter(calendar)
    for group in queries.overdue_deadlines(session, now):
        key = (group.queue or "(no queue)", group.kind, group.stage or "")
        late_by = working_days.elapsed(group.due_day, today)
        band = next(i for i, (low, high, _) in enumerate(OVERDUE_BANDS) if high is None or late_by <= high)
        grouped[key][band] += group.overdue
        oldest[key] = min(oldest.get(key, group.due_day), group.due_day)
    order = sorted(grouped, key=lambda k: (QUEUES.index(k[0]) if k[0] in QUEUES else len(QUEUES), k[1], k[2]))
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (*key, sum(grouped[key]), *grouped[key], oldest[key]) for key in order
    )
    queues_shown = list(dict.fromkeys(key[0] for key in order))
    return ReportTable(
        view="overdue",
        title="Overdue now",
        period=None,
        columns=(
            Column("queue", "Queue"),
            Column("deadline", "Deadline"),
            Column("stage", "Stage"),
            Column("overdue", "Overdue", "count"),
            *(Column(f"band_{i + 1}", label, "count") for i, (_, _, label) in enumerate(OVERDUE_BANDS)),
            Column("oldest_due", "Oldest due date", "date"),
        ),
        rows=rows,
        notes=(
            f"Open cases with a deadline past and not met, at {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC. "
            "Days overdue are working days after the due date. The resident's window to ask for the "
            "next stage is not a deadline of ours and is left out.",
        ),
        chart=Chart(
            style="stacked",
            labels=tuple(_words(q) for q in queues_shown),
            series=tuple(
                (
                    label,
                    tuple(
                        float(sum(grouped[k][i] for k in order if k[0] == queue)) for queue in queues_shown
                    ),
                )
                for i, (_, _, label) in enumerate(OVERDUE_BANDS)
            ),
            title="Overdue deadlines by queue",
        ),
        totals={
            "overdue": sum(sum(v) for v in grouped.values()),
            # Cases, as the queue's sidebar counts them (a case may have several overdue deadlines).
            "cases": len(queries.overdue_case_ids(session, now)),
        },
    )


# --- outcomes -----------------------------------------------------------------------------


def outcomes(*, session: Session, period: Period) -> ReportTable:
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    remedies: dict[str, Counter[str]] = defaultdict(Counter)
    for group in queries.outcomes_closed(session, _window(period)):
        item_type = group.type or UNCLASSIFIED
        outcome = group.outcome or NO_OUTCOME
        by_type[item_type][outcome] += group.closed
        remedies[item_type][outcome] += int(group.with_remedy or 0)
    rows: list[tuple[Cell, ...]] = []
    for item_type in [t for t in TYPE_COLUMNS if t in by_type]:
        ranked = by_type[item_type].most_common()
        shown, rest = ranked[:MAX_OUTCOMES_PER_TYPE], ranked[MAX_OUTCOMES_PER_TYPE:]
        for outcome, closed in shown:
            with_remedy = remedies[item_type][outcome]
            rows.append((item_type, outcome, closed, with_remedy, _share(with_remedy, closed)))
        if rest:
            closed = sum(count for _, count in rest)
            with_remedy = sum(remedies[item_type][outcome] for outcome, _ in rest)
            rows.append((item_type, "(other outcomes)", closed, with_remedy, _share(with_remedy, closed)))
    complaint_rows = [r for r in rows if r[0] == "complaint"] or rows
    return ReportTable(
        view="outcomes",
        title="Outcomes and remedies",
        period=period,
        columns=(
            Column("type", "Type"),
            Column("outcome", "Outcome"),
            Column("closed", "Closed", "count"),
            Column("with_remedy", "With a remedy", "count"),
            Column("share_with_remedy", "Share with a remedy", "share"),
        ),
        rows=tuple(rows),
        notes=("Cases closed in the period, by the outcome recorded when closing (case-insensitive).",),
        chart=Chart(
            style="bar",
            labels=tuple(str(r[1]) for r in complaint_rows),
            series=(("closed", tuple(_as_number(r[2]) for r in complaint_rows)),),
            title="Complaint outcomes"
            if complaint_rows and complaint_rows[0][0] == "complaint"
            else "Outcomes",
        ),
        totals={"closed": int(sum(_as_number(r[2]) for r in rows))},
    )


# --- corrections --------------------------------------------------------------------------


def corrections(*, session: Session, period: Period) -> ReportTable:
    """How often staff corrected the classifier, label by label: its real-world accuracy."""
    found = queries.classifier_corrections(session, _window(period))
    labelled: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    added: Counter[str] = Counter()
    for group in found.types:
        model = group.model_type or UNCLASSIFIED
        final = group.final_type or UNCLASSIFIED
        labelled[model] += group.items
        if model == final:
            kept[model] += group.items
        else:
            added[final] += group.items
    rows: list[tuple[Cell, ...]] = []
    for item_type in TYPE_COLUMNS:
        if labelled[item_type] or added[item_type]:
            rows.append(
                _agreement_row(
                    "type",
                    item_type,
                    kept[item_type],
                    labelled[item_type] - kept[item_type],
                    added[item_type],
                )
            )
    for label in found.labels:
        if label.kept or label.removed or label.added:
            rows.append(_agreement_row(label.group, label.label, label.kept, label.removed, label.added))
    classified = sum(group.items for group in found.types)
    corrected = sum(group.corrected for group in found.types)
    return ReportTable(
        view="corrections",
        title="Corrections by staff (the classifier's real-world accuracy)",
        period=period,
        columns=(
            Column("group", "Label group"),
            Column("label", "Label"),
            Column("model_labelled", "Given by the classifier", "count"),
            Column("kept", "Kept by staff", "count"),
            Column("removed", "Removed by staff", "count"),
            Column("added", "Added by staff", "count"),
            Column("precision", "Share kept (precision)", "share"),
            Column("recall", "Share found (recall)", "share"),
        ),
        rows=tuple(rows),
        notes=(
            f"{classified} items received in the period were labelled by the classifier and reviewed by "
            f"staff (corrected, or acted on); staff corrected {corrected} of them "
            f"({_percent_words(_share(corrected, classified))}). Items nobody has reviewed are left out: "
            "a label nobody looked at says nothing about whether it was right.",
            "The classifier's labels are those before the first correction; the staff's are the item's "
            "labels now. Precision: of the labels it gave, the share staff kept. Recall: of the labels "
            "the items have now, the share it had given.",
        ),
        chart=Chart(
            style="bar",
            labels=tuple(_words(str(r[1])) for r in rows if r[0] == "type"),
            series=(("kept", tuple(100.0 * _as_number(r[6]) for r in rows if r[0] == "type")),),
            unit="%",
            title="Type labels kept by staff",
        ),
        totals={
            "classified": classified,
            "corrected": corrected,
            "share_corrected": _share(corrected, classified),
        },
    )


def _agreement_row(group: str, label: str, kept: int, removed: int, added: int) -> tuple[Cell, ...]:
    given = kept + removed
    return (group, label, given, kept, removed, added, _share(kept, given), _share(kept, kept + added))


def _percent_words(share: float | None) -> str:
    return "no items" if share is None else f"{share:.1%}"


# --- Tenant Satisfaction Measures ---------------------------------------------------------


def tsm(
    *,
    session: Session,
    period: Period,
    calendar: WorkingCalendar,
    homes: int,
    timescales: dict[str, CodeTimescale] | None = None,
) -> ReportTable:
    """CH01 (complaints per 1,000 homes) and CH02 (share answered within the Code's timescales)."""
    if homes <= 0:
        raise ValueError("the number of homes must be positive (setting INTAKE_HOMES)")
    code = timescales or code_timescales()
    window = _window(period)
    rows: list[tuple[Cell, ...]] = []
    for number, stage in enumerate(TSM_STAGES, start=1):
        received = queries.complaints_entering_stage(session, window, stage)
        rows.append(
            (
                f"CH01 stage {number}",
                f"Stage {number} complaints received per 1,000 homes",
                received,
                homes,
                round(1000 * received / homes, 2),
                "per 1,000 homes",
            )
        )
    responses = _responses_in_time(session, window, calendar, code)
    for number, stage in enumerate(TSM_STAGES, start=1):
        responded, in_time = responses.get(stage, (0, 0))
        share = _share(in_time, responded)
        rows.append(
            (
                f"CH02 stage {number}",
                f"Stage {number} complaints responded to within the Complaint Handling Code's timescales",
                in_time,
                responded,
                None if share is None else round(100 * share, 2),
                "% of responses",
            )
        )
    return ReportTable(
        view="tsm",
        title="Tenant Satisfaction Measures CH01 and CH02",
        period=period,
        columns=(
            Column("measure", "Measure"),
            Column("description", "Description"),
            Column("count", "Count", "count"),
            Column("base", "Out of", "count"),
            Column("result", "Result", "rate"),
            Column("unit", "Unit"),
        ),
        rows=tuple(rows),
        notes=(
            f"CH01: complaints that entered stage 1 (or stage 2) in the period, per 1,000 of the {homes:,} "
            "homes in the setting INTAKE_HOMES; a reopened complaint is the same complaint and counts once. "
            "The regulator's measure is annual: use a financial year for the return.",
            "CH02: complaints whose first response at the stage was recorded in the period; in time when "
            f"sent within {code['stage_1'].respond_within} (stage 1) or {code['stage_2'].respond_within} "
            "(stage 2) working days of the acknowledgement, or by an agreed extension within the Code's "
            "limit. A late or missing acknowledgement does not move the clock later than the day it was due.",
            "Bank holidays and weekends are not working days; a complaint received on one counts in the "
            "period it arrived but its clock starts on the next working day.",
        ),
        chart=Chart(
            style="bar",
            labels=tuple(str(r[0]) for r in rows[2:]),
            series=(("within timescale", tuple(_as_number(r[4]) for r in rows[2:])),),
            unit="%",
            title="CH02: answered within the Code's timescales",
        ),
    )


def _responses_in_time(
    session: Session,
    window: queries.Window,
    calendar: WorkingCalendar,
    code: dict[str, CodeTimescale],
) -> dict[str, tuple[int, int]]:
    """(responded, in time) per stage."""
    found: dict[str, tuple[int, int]] = {}
    for group in queries.complaint_responses(session, window, TSM_STAGES):
        due = code[group.stage].due_day(
            calendar,
            entered=group.entered_day,
            acknowledged=group.acknowledged_day,
            extended_until=_extension_day(group.extended_until),
        )
        responded, in_time = found.get(group.stage, (0, 0))
        on_time = group.responses if group.responded_day <= due else 0
        found[group.stage] = (responded + group.responses, in_time + on_time)
    return found


def _extension_day(value: str | None) -> date | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return london_day(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# --- the registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportContext:
    session: Session
    period: Period
    now: datetime
    calendar: WorkingCalendar
    policy: PolicyProfile
    homes: int


@dataclass(frozen=True)
class ViewSpec:
    name: str
    title: str
    build: Callable[[ReportContext], ReportTable]


VIEWS: dict[str, ViewSpec] = {
    spec.name: spec
    for spec in (
        ViewSpec(
            "volume", "Volume by type and channel", lambda c: volume(session=c.session, period=c.period)
        ),
        ViewSpec(
            "service_areas",
            "By service area (queue)",
            lambda c: service_areas(session=c.session, period=c.period),
        ),
        ViewSpec(
            "categories", "Complaint categories", lambda c: categories(session=c.session, period=c.period)
        ),
        ViewSpec(
            "timeliness",
            "Acknowledgement and response times",
            lambda c: timeliness(session=c.session, period=c.period, calendar=c.calendar, policy=c.policy),
        ),
        ViewSpec(
            "overdue", "Overdue now", lambda c: overdue(session=c.session, now=c.now, calendar=c.calendar)
        ),
        ViewSpec("outcomes", "Outcomes and remedies", lambda c: outcomes(session=c.session, period=c.period)),
        ViewSpec(
            "corrections", "Corrections by staff", lambda c: corrections(session=c.session, period=c.period)
        ),
        ViewSpec(
            "tsm",
            "Tenant Satisfaction Measures (CH01, CH02)",
            lambda c: tsm(session=c.session, period=c.period, calendar=c.calendar, homes=c.homes),
        ),
    )
}


def resolve_view(name: str) -> ViewSpec:
    if name not in VIEWS:
        raise UnknownView(f"no report view {name!r}; choose one of {', '.join(VIEWS)}")
    return VIEWS[name]


def build_report(
    runtime: Runtime,
    period: Period,
    *,
    views: Iterable[str] | None = None,
    now: datetime | None = None,
    homes: int | None = None,
) -> list[ReportTable]:
    """The named views (all by default) for `period`, from one read-only unit of work."""
    specs = [resolve_view(name) for name in (views or VIEWS)]
    with runtime.database.session() as session:
        queries.prepare_session(session)
        context = ReportContext(
            session=session,
            period=period,
            now=now or runtime.clock.now(),
            calendar=runtime.calendar,
            policy=runtime.policy,
            homes=homes or runtime.settings.homes,
        )
        tables = [spec.build(context) for spec in specs]
        session.rollback()  # nothing to write; end the read transaction cleanly
    return tables


def build_view(runtime: Runtime, name: str, period: Period, *, now: datetime | None = None) -> ReportTable:
    return build_report(runtime, period, views=[name], now=now)[0]
