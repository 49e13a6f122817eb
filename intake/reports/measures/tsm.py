"""Tenant Satisfaction Measures CH01 and CH02 (complaints per 1,000 homes, responded to in time)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from intake.reports import daily_facts
from intake.reports.measures.common import (
    as_number,
    share_of,
)
from intake.reports.periods import Period, london_day
from intake.reports.tables import Cell, Chart, Column, ReportTable
from intake.reports.timescales import (
    TSM_STAGES,
    CodeTimescale,
    code_timescales,
)
from triage_rules.working_days import WorkingCalendar


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
    entered = daily_facts.complaints_entering_stage(session, period)
    rows: list[tuple[Cell, ...]] = []
    for number, stage in enumerate(TSM_STAGES, start=1):
        received = entered[stage]
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
    responses = _responses_in_time(session, period, calendar, code)
    for number, stage in enumerate(TSM_STAGES, start=1):
        responded, in_time = responses.get(stage, (0, 0))
        share = share_of(in_time, responded)
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
            series=(("within timescale", tuple(as_number(r[4]) for r in rows[2:])),),
            unit="%",
            title="CH02: answered within the Code's timescales",
        ),
    )


def _responses_in_time(
    session: Session,
    period: Period,
    calendar: WorkingCalendar,
    code: dict[str, CodeTimescale],
) -> dict[str, tuple[int, int]]:
    """(responded, in time) per stage."""
    found: dict[str, tuple[int, int]] = {}
    for group in daily_facts.complaint_responses(session, period):
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
