"""The SQL of the Tenant Satisfaction Measures (CH01 complaints entering a stage, CH02 responses in
time). Same conventions and words as intake/reports/queries.py, whose shared pieces it uses."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from intake.reports.local_dates import london_date
from intake.reports.queries import (
    COMPLAINT,
    Window,
    became_complaint_start,
    first_met,
    with_stage_entry,
    within,
)
from models import Acknowledgement, AuditEntry, Deadline, Item


def _has_stage(stage: str) -> ColumnElement[bool]:
    row = aliased(Deadline)
    return exists().where(row.item_id == Item.id, row.stage == stage)


def _has_acknowledgement(purpose: str) -> ColumnElement[bool]:
    row = aliased(Acknowledgement)
    return exists().where(row.item_id == Item.id, row.purpose == purpose)


def _has_became_complaint() -> ColumnElement[bool]:
    row = aliased(AuditEntry)
    return exists().where(row.item_id == Item.id, row.action == "became_complaint")


def complaints_entering_stage_by_day(session: Session, window: Window, stage: str) -> dict[date, int]:
    """CH01: complaints that entered `stage` in the window, per London day entered, each counted once
    however often reopened.

    Three index-friendly branches, one per way in: escalated into the stage; became a complaint
    (a service request chased, or a type corrected by staff), entering its first stage when the
    triggering message arrived; a complaint from the start, at receipt.
    """
    complaint_case = and_(Item.type == COMPLAINT, Item.case_id.is_(None), _has_stage(stage))
    escalated = (
        select(london_date(Acknowledgement.created_at).label("day"))
        .select_from(Item)
        .join(Acknowledgement, and_(Acknowledgement.item_id == Item.id, Acknowledgement.purpose == stage))
        .where(within(Acknowledgement.created_at, window), complaint_case)
    )
    audit, trigger, later = aliased(AuditEntry), aliased(Item), aliased(AuditEntry)
    became_complaint = (
        select(london_date(became_complaint_start(audit, trigger)).label("day"))
        .select_from(audit)
        .join(Item, Item.id == audit.item_id)
        .outerjoin(trigger, trigger.id == audit.details["trigger_item"].as_integer())
        .where(
            audit.action == "became_complaint",
            audit.at >= window.start,  # it changed no earlier than the message that changed it
            within(became_complaint_start(audit, trigger), window),
            ~exists().where(
                later.item_id == audit.item_id,
                later.action == "became_complaint",
                or_(later.at > audit.at, and_(later.at == audit.at, later.id > audit.id)),
            ),
            complaint_case,
            ~_has_acknowledgement(stage),
        )
    )
    from_the_start = select(london_date(Item.received_at).label("day")).where(
        within(Item.received_at, window),
        complaint_case,
        ~_has_acknowledgement(stage),
        ~_has_became_complaint(),
    )
    entries = union_all(escalated, became_complaint, from_the_start).subquery()
    query = select(entries.c.day, func.count()).group_by(entries.c.day)
    return {day: int(count) for day, count in session.execute(query)}


class ResponseGroup(NamedTuple):
    stage: str
    entered_day: date
    acknowledged_day: date | None
    responded_day: date
    extended_until: str | None  # ISO text from the audit log's latest extension of this stage
    responses: int


def _latest_extensions() -> Any:
    """(item_id, stage, until): each item's latest agreed extension per stage, from the audit log."""
    later = aliased(AuditEntry)
    stage = AuditEntry.details["stage"].as_string()
    return (
        select(
            AuditEntry.item_id.label("item_id"),
            stage.label("stage"),
            AuditEntry.details["until"].as_string().label("until"),
        )
        .where(
            AuditEntry.action == "extended",
            ~exists().where(
                later.item_id == AuditEntry.item_id,
                later.action == "extended",
                later.details["stage"].as_string() == stage,
                or_(later.at > AuditEntry.at, and_(later.at == AuditEntry.at, later.id > AuditEntry.id)),
            ),
        )
        .subquery("extensions")
    )


def complaint_responses(session: Session, window: Window, stages: tuple[str, ...]) -> list[ResponseGroup]:
    """CH02: complaints whose first response at each of `stages` was in the window, grouped by stage
    and the days the Code's clock needs (entered, acknowledged, responded) and any agreed extension.
    One pass for all the stages."""
    # The clock starts at the acknowledgement: the first `met_at` of the stage's acknowledge
    # deadline, set when it was sent or when staff recorded one made another way (a call-back).
    acknowledged, extensions = aliased(Deadline), _latest_extensions()
    base = (
        select(Deadline.met_at)
        .select_from(Deadline)
        .join(Item, Item.id == Deadline.item_id)
        .outerjoin(
            acknowledged,
            and_(
                acknowledged.item_id == Deadline.item_id,
                acknowledged.kind == "acknowledge",
                acknowledged.stage == Deadline.stage,
                acknowledged.met_at.is_not(None),
                first_met(acknowledged),
            ),
        )
        .outerjoin(
            extensions, and_(extensions.c.item_id == Deadline.item_id, extensions.c.stage == Deadline.stage)
        )
        .where(
            Deadline.kind == "respond",
            Deadline.stage.in_(stages),
            within(Deadline.met_at, window),
            first_met(Deadline),
            Item.type == COMPLAINT,
            Item.case_id.is_(None),
        )
    )
    entry = with_stage_entry(base, Deadline.item_id, Deadline.stage)
    rows = entry.query.with_only_columns(
        Deadline.stage.label("stage"),
        london_date(entry.entered_at).label("entered_day"),
        london_date(acknowledged.met_at).label("acknowledged_day"),
        london_date(Deadline.met_at).label("responded_day"),
        extensions.c.until.label("extended_until"),
        maintain_column_froms=True,
    ).subquery("responses")
    keys = (
        rows.c.stage,
        rows.c.entered_day,
        rows.c.acknowledged_day,
        rows.c.responded_day,
        rows.c.extended_until,
    )
    query = select(*keys, func.count()).group_by(*keys)
    return [ResponseGroup(*row) for row in session.execute(query)]
