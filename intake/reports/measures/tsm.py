"""Tenant Satisfaction Measures CH01 and CH02 (complaints per 1,000 homes, responded to in time)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.reports import daily_facts
from intake.reports.measures.common import (
    as_number,
    share_of,
)
from intake.reports.periods import Period
from intake.reports.tables import Cell, Chart, Column, ReportTable
from intake.reports.timescales import (
    TSM_STAGES,
    code_timescales,
)


def tsm(
    *,
    session: Session,
    period: Period,
    homes: int,
) -> ReportTable:
    """CH01 (complaints per 1,000 homes) and CH02 (share answered within the Code's timescales)."""
    if homes <= 0:
        raise ValueError("the number of homes must be positive (setting INTAKE_HOMES)")
    code = code_timescales()
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
    # Judged against the Code's timescales (code_timescales()) when the facts were computed.
    responses = daily_facts.complaint_responses(session, period)
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
