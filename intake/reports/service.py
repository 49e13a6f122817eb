"""The table of report views and `build_report`: one read-only unit of work, each view built from it.

The views themselves are intake/reports/measures/, one module per report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from intake.reports import daily_facts, queries
from intake.reports.errors import UnknownView
from intake.reports.measures.categories import categories
from intake.reports.measures.corrections import corrections
from intake.reports.measures.outcomes import outcomes
from intake.reports.measures.overdue import overdue
from intake.reports.measures.timeliness import timeliness
from intake.reports.measures.tsm import tsm
from intake.reports.measures.volume import service_areas, volume
from intake.reports.periods import Period
from intake.reports.tables import ReportTable
from intake.runtime import Runtime
from triage_rules.policies import PolicyProfile
from triage_rules.working_days import WorkingCalendar


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
    # Period reports sum the daily facts; "overdue now" reads the live deadlines and needs no refresh.
    reads_facts: bool = True


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
            lambda c: timeliness(session=c.session, period=c.period, policy=c.policy),
        ),
        ViewSpec(
            "overdue",
            "Overdue now",
            lambda c: overdue(session=c.session, now=c.now, calendar=c.calendar),
            reads_facts=False,
        ),
        ViewSpec("outcomes", "Outcomes and remedies", lambda c: outcomes(session=c.session, period=c.period)),
        ViewSpec(
            "corrections", "Corrections by staff", lambda c: corrections(session=c.session, period=c.period)
        ),
        ViewSpec(
            "tsm",
            "Tenant Satisfaction Measures (CH01, CH02)",
            lambda c: tsm(session=c.session, period=c.period, homes=c.homes),
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
    return build_reports(runtime, [(period, views)], now=now, homes=homes)[0]


def build_reports(
    runtime: Runtime,
    wanted: Sequence[tuple[Period, Iterable[str] | None]],
    *,
    now: datetime | None = None,
    homes: int | None = None,
) -> list[list[ReportTable]]:
    """Several periods' views (all by default) after one refresh of the facts, from one read-only
    unit of work, so a page that shows two periods (the board report: the quarter and the year to
    date) reads them from the same moment and pays for the refresh once."""
    chosen = [(period, [resolve_view(name) for name in (views or VIEWS)]) for period, views in wanted]
    if any(spec.reads_facts for _, specs in chosen for spec in specs):
        refresh_facts(runtime)
    with runtime.database.session() as session:
        queries.prepare_session(session)
        built = []
        for period, specs in chosen:
            context = ReportContext(
                session=session,
                period=period,
                now=now or runtime.clock.now(),
                calendar=runtime.calendar,
                policy=runtime.policy,
                homes=homes or runtime.settings.homes,
            )
            built.append([spec.build(context) for spec in specs])
        session.rollback()  # nothing to write; end the read transaction cleanly
    return built


def refresh_facts(runtime: Runtime) -> daily_facts.Refreshed:
    """Bring the daily facts up to date with every change committed so far, in its own transaction
    (the report's read-only one starts after it), so the next report read shows every change."""
    with runtime.database.session() as session:
        queries.prepare_session(session)
        return daily_facts.refresh(session, runtime.calendar)


def build_view(runtime: Runtime, name: str, period: Period, *, now: datetime | None = None) -> ReportTable:
    return build_report(runtime, period, views=[name], now=now)[0]
