"""Overdue now: open deadlines past due, banded by working days late."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from intake.reports import queries
from intake.reports.measures.common import (
    OVERDUE_BANDS,
    in_words,
)
from intake.reports.periods import london_day
from intake.reports.tables import Cell, Chart, Column, ReportTable
from intake.reports.timescales import (
    WorkingDayCounter,
)
from triage_rules.taxonomy import QUEUES
from triage_rules.working_days import WorkingCalendar


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
            labels=tuple(in_words(q) for q in queues_shown),
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
            "cases": queries.overdue_case_count(session, now),
        },
    )
