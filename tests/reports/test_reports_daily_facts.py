"""The daily facts the reports read: kept up to date by every change, and equal to a rebuild from the tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bench.simulate_quarter import Quarter, QuarterConfig
from intake import cases, jobs
from intake.deadlines import overdue_case_condition
from intake.reports import daily_facts
from intake.reports.periods import Period, parse_period
from intake.reports.service import build_view, refresh_facts
from intake.runtime import Runtime
from models import Item, ReportDailyFact, ReportFactMark
from models.report_facts import mark_items
from tests.reports import dataset
from triage_rules.working_days import WorkingCalendar

Q3 = parse_period("2026-Q3")


def _facts(session: Session) -> list[tuple[object, ...]]:
    columns = [c for c in ReportDailyFact.__table__.c if c.name != "id"]
    return sorted((tuple(row) for row in session.execute(select(*columns))), key=repr)


def _incremental_equals_rebuild(runtime: Runtime) -> list[tuple[object, ...]]:
    """Refresh what the marks name, then rebuild every day from the tables: the two must agree."""
    refresh_facts(runtime)
    with runtime.database.session() as session:
        incremental = _facts(session)
        daily_facts.rebuild_all(session, runtime.calendar)
    with runtime.database.session() as session:
        rebuilt = _facts(session)
    assert incremental == rebuilt
    return rebuilt


def _total(runtime: Runtime, view: str, period: Period, key: str) -> int:
    value = build_view(runtime, view, period, now=dataset.NOW).totals[key]
    assert isinstance(value, int), (view, key, value)
    return value


def _open_complaint(session: Session) -> Item:
    return session.scalars(
        select(Item)
        .where(Item.case_id.is_(None), Item.type == "complaint", Item.case_status == "open")
        .order_by(Item.id)
        .limit(1)
    ).one()


def test_every_write_leaves_a_mark_and_the_next_read_takes_them(report_runtime: Runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    with report_runtime.database.session() as session:
        assert session.scalar(select(ReportFactMark.id).limit(1)) is not None  # the data set's inserts
    build_view(report_runtime, "volume", Q3, now=dataset.NOW)
    with report_runtime.database.session() as session:
        assert session.scalar(select(ReportFactMark.id).limit(1)) is None
        assert session.scalar(select(ReportDailyFact.id).limit(1)) is not None


def test_overdue_now_reads_the_live_deadlines_and_leaves_the_refresh_to_period_reports(report_runtime: Runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    # "Overdue now" never reads the facts, so reading it alone does not pay for bringing them up to date.
    build_view(report_runtime, "volume", Q3, now=dataset.NOW)
    before = build_view(report_runtime, "overdue", Q3, now=dataset.NOW).totals["cases"]
    with report_runtime.database.session() as session:
        overdue_case = session.scalars(
            select(Item).where(overdue_case_condition(dataset.NOW)).order_by(Item.id).limit(1)
        ).one()
        cases.close(report_runtime, session, overdue_case, actor="manager", outcome="Upheld", remedy=None)
    assert build_view(report_runtime, "overdue", Q3, now=dataset.NOW).totals["cases"] == before - 1  # type: ignore[operator]
    with report_runtime.database.session() as session:
        assert session.scalar(select(ReportFactMark.id).limit(1)) is not None  # still waiting for a refresh
    build_view(report_runtime, "outcomes", Q3, now=dataset.NOW)
    with report_runtime.database.session() as session:
        assert session.scalar(select(ReportFactMark.id).limit(1)) is None
    _incremental_equals_rebuild(report_runtime)


def test_a_closure_and_a_reopening_show_in_the_next_read(report_runtime: Runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    period = parse_period("2026-10-01..2026-10-31")
    before = _total(report_runtime, "outcomes", period, "closed")
    with report_runtime.database.session() as session:
        item = _open_complaint(session)
        item_id = item.id
        cases.close(report_runtime, session, item, actor="manager", outcome="Upheld", remedy="an apology")
        item.closed_at = datetime(
            2026, 10, 14, 10, 0, tzinfo=UTC
        )  # within the period, whatever the clock says
    assert _total(report_runtime, "outcomes", period, "closed") == before + 1
    with report_runtime.database.session() as session:
        closed = session.get(Item, item_id)
        assert closed is not None
        cases.reopen(
            report_runtime, session, closed, actor="manager", reason="the resident was not satisfied"
        )
    assert _total(report_runtime, "outcomes", period, "closed") == before
    _incremental_equals_rebuild(report_runtime)


def test_a_type_correction_moves_a_case_between_columns_at_once(report_runtime: Runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    before = {key: _total(report_runtime, "volume", Q3, key) for key in ("complaint", "enquiry", "total")}
    with report_runtime.database.session() as session:
        item = _open_complaint(session)
        received_in_q3 = Q3.contains_day(item.received_at.date())
        item.type = "enquiry"
    after = {key: _total(report_runtime, "volume", Q3, key) for key in ("complaint", "enquiry", "total")}
    moved = 1 if received_in_q3 else 0
    assert after["complaint"] == before["complaint"] - moved
    assert after["enquiry"] == before["enquiry"] + moved
    assert after["total"] == before["total"]
    _incremental_equals_rebuild(report_runtime)


def test_a_write_outside_the_unit_of_work_is_seen_once_marked(report_runtime: Runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    build_view(report_runtime, "volume", Q3, now=dataset.NOW)
    with report_runtime.database.session() as session:
        ids = list(session.scalars(select(Item.id).where(Item.case_id.is_(None), Item.type == "complaint")))
        session.execute(update(Item).where(Item.id.in_(ids)).values(type="suggestion"))
    # Not marked: the facts still say what they said (the documented contract of a bulk write) …
    assert _total(report_runtime, "volume", Q3, "suggestion") < len(ids)
    with report_runtime.database.session() as session:
        mark_items(session, ids)
    # … and once marked, the next read recomputes exactly those items' days.
    table = build_view(report_runtime, "volume", Q3, now=dataset.NOW)
    assert table.totals["complaint"] == 0
    _incremental_equals_rebuild(report_runtime)


def test_the_sweep_refreshes_the_facts(report_runtime: Runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    assert jobs.sweep()["report_days"] > 0
    with report_runtime.database.session() as session:
        assert session.scalar(select(ReportFactMark.id).limit(1)) is None
    assert jobs.sweep()["report_days"] == 0


def test_a_sweep_between_refreshes_leaves_the_facts_to_the_next_one_or_to_a_report_read(  # type: ignore[no-untyped-def]
    report_runtime: Runtime, fixed_data
) -> None:
    assert jobs.sweep(report_facts=False)["report_days"] == 0
    with report_runtime.database.session() as session:
        assert session.scalar(select(ReportFactMark.id).limit(1)) is not None  # still waiting
    build_view(report_runtime, "volume", Q3, now=dataset.NOW)  # a read refreshes what is left
    with report_runtime.database.session() as session:
        assert session.scalar(select(ReportFactMark.id).limit(1)) is None


def test_runs_join_nearby_days_and_keep_distant_ones_apart() -> None:
    days = {date(2026, 7, 1), date(2026, 7, 3), date(2026, 7, 20), date(2025, 1, 1)}
    assert daily_facts._runs(days) == [
        (date(2025, 1, 1), date(2025, 1, 1)),
        (date(2026, 7, 1), date(2026, 7, 3)),
        (date(2026, 7, 20), date(2026, 7, 20)),
    ]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_simulated_quarter_keeps_the_facts_equal_to_a_rebuild(runtime: Runtime) -> None:
    """Arrivals, follow-ups, corrections, responses, extensions, escalations, closures and reopenings
    through the real services, with reports read along the way: the facts kept up to date change by
    change equal the facts rebuilt from the tables at the end."""
    quarter = Quarter(runtime, QuarterConfig(messages=60))
    figures = quarter.run()
    assert figures.violations == [], figures.report()
    assert figures.actions["closed"] and figures.actions["responded"]
    facts = _incremental_equals_rebuild(runtime)
    assert {row[0] for row in facts} >= {"cases", "met", "closed", "stage_entries", "responses"}


def test_another_nations_calendar_rebuilds_every_day(report_runtime: Runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    """Working days are counted when the facts are computed: a landlord in Scotland gets Scotland's."""
    refresh_facts(report_runtime)
    with report_runtime.database.session() as session:
        assert daily_facts.refresh(session, report_runtime.calendar).days == 0  # nothing changed
        refreshed = daily_facts.refresh(session, WorkingCalendar("scotland"))
        assert refreshed.rebuilt
        assert daily_facts._calendar_used(session) == "scotland"
