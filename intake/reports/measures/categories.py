"""Complaint categories: how often each category was raised."""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.reports import daily_facts
from intake.reports.measures.common import (
    in_words,
    share_of,
)
from intake.reports.periods import Period
from intake.reports.tables import Chart, Column, ReportTable


def categories(*, session: Session, period: Period) -> ReportTable:
    found = daily_facts.complaint_categories(session, period)
    rows = [
        (category, count, share_of(count, found.complaints))
        for category, count in sorted(found.by_category.items(), key=lambda pair: (-pair[1], pair[0]))
    ]
    rows.append(("(no category)", found.uncategorised, share_of(found.uncategorised, found.complaints)))
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
            labels=tuple(in_words(str(r[0])) for r in rows),
            series=(("complaints", tuple(float(r[1]) for r in rows)),),
            title="Complaints by category",
        ),
        totals={"complaints": found.complaints},
    )
