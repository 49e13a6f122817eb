"""Volume: items by type and channel, and by service area (queue)."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy.orm import Session

from intake.reports import daily_facts
from intake.reports.measures.common import (
    TYPE_COLUMNS,
    UNCLASSIFIED,
    in_words,
)
from intake.reports.periods import Period
from intake.reports.tables import Cell, Chart, Column, ReportTable
from triage_rules.taxonomy import CHANNELS, QUEUES


def volume(*, session: Session, period: Period) -> ReportTable:
    """New cases by type and channel for each day, week or month of the period."""
    buckets = period.buckets()
    counts: Counter[tuple[int, str, str]] = Counter()
    for row in daily_facts.cases_by_day_type_channel(session, period):
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
            (in_words(t), tuple(float(sum(counts[(i, c, t)] for c in channels)) for i in range(len(buckets))))
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
            *(Column(t, in_words(t).capitalize(), "count") for t in TYPE_COLUMNS),
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
    for row in daily_facts.cases_by_queue_and_type(session, period):
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
            *(Column(t, in_words(t).capitalize(), "count") for t in TYPE_COLUMNS),
            Column("total", "Total", "count"),
        ),
        rows=rows,
        notes=("The queue each new case is in now (routing, then any move by staff).",),
        chart=Chart(
            style="bar",
            labels=tuple(in_words(q) for q in order),
            series=(("cases", tuple(float(sum(counts[q].values())) for q in order)),),
            title="New cases by queue",
        ),
    )
