"""Outcomes and remedies recorded on closed complaints."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy.orm import Session

from intake.reports import daily_facts
from intake.reports.measures.common import (
    MAX_OUTCOMES_PER_TYPE,
    NO_OUTCOME,
    TYPE_COLUMNS,
    UNCLASSIFIED,
    as_number,
    share_of,
)
from intake.reports.periods import Period
from intake.reports.tables import Cell, Chart, Column, ReportTable


def outcomes(*, session: Session, period: Period) -> ReportTable:
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    remedies: dict[str, Counter[str]] = defaultdict(Counter)
    for group in daily_facts.outcomes_closed(session, period):
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
            rows.append((item_type, outcome, closed, with_remedy, share_of(with_remedy, closed)))
        if rest:
            closed = sum(count for _, count in rest)
            with_remedy = sum(remedies[item_type][outcome] for outcome, _ in rest)
            rows.append((item_type, "(other outcomes)", closed, with_remedy, share_of(with_remedy, closed)))
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
            series=(("closed", tuple(as_number(r[2]) for r in complaint_rows)),),
            title="Complaint outcomes"
            if complaint_rows and complaint_rows[0][0] == "complaint"
            else "Outcomes",
        ),
        totals={"closed": int(sum(as_number(r[2]) for r in rows))},
    )
