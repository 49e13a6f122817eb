"""Acknowledgement and response times against the policy's targets, in working days."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy.orm import Session

from intake.reports import daily_facts
from intake.reports.measures.common import (
    HAZARD_TARGETS,
    KIND_ORDER,
    UNCLASSIFIED,
    as_number,
    in_words,
    share_of,
)
from intake.reports.periods import Period
from intake.reports.tables import Cell, Chart, Column, ReportTable
from intake.reports.timescales import Distribution
from triage_rules.policies import PolicyProfile, Target
from triage_rules.taxonomy import TYPES


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
    *, session: Session, period: Period, policy: PolicyProfile
) -> ReportTable:
    """Time to acknowledge and to respond, in working days, against the policy's targets."""
    distributions: dict[tuple[str, str | None, str | None], Counter[int]] = defaultdict(Counter)
    in_target: Counter[tuple[str, str | None, str | None]] = Counter()
    for stage_id in ("stage_1", "stage_2"):
        if policy.has_stage(stage_id):
            for kind_id in ("acknowledge", "respond"):
                distributions[(kind_id, "complaint", stage_id)]  # always shown, even when nothing was met
    # Working days were counted with the landlord's calendar when the facts were computed.
    for group in daily_facts.first_met_deadlines(session, period):
        key = (group.kind, group.type, group.stage)
        distributions[key][group.working_days] += group.met
        in_target[key] += group.in_target
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
                share_of(in_target[key], spread.total),
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
            series=(("in target", tuple(100.0 * as_number(r[8]) for r in rows)),),
            unit="%",
            title="Share in target",
        ),
    )


def _timeliness_label(kind: str, item_type: str, stage: str) -> str:
    """'ack. stage 1', 'response stage 2', 'make safe (service request)' — short enough for an axis."""
    short = {"acknowledge": "ack.", "respond": "response"}.get(kind, in_words(kind))
    return f"{short} {in_words(stage)}" if stage else f"{short} ({in_words(item_type)})"


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
