"""A case's dates, owned here and only here: compute, supersede, mark met, extend, and the next due date.

The policy arithmetic lives below, in `triage_rules/deadlines.py` (pure functions); this module
applies it to an item and keeps the rows. Every screen, count, report, letter and the API reads a
case's dates through these functions, so they cannot disagree:

- `recompute` supersedes the current rows with ones computed afresh (a met deadline stays met);
- `mark_met` records the action that meets a deadline (acknowledgement sent, response sent, made
  safe, hazard inspected, called back, ...), and refreshes the next due date *after* marking;
- `next_due` is the earliest unmet deadline that is the landlord's to meet; `items.next_due_at` is
  that value stored for sorting and counting, and is only ever written by `refresh_next_due`;
- `state_of` says whether a deadline is open, overdue, met on time or met late.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, exists
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from intake.runtime import Runtime
from models import Deadline, Item
from triage_rules.deadlines import ComputedDeadline, compute_deadlines
from triage_rules.taxonomy import JUNK_QUEUE

# Deadlines that are not the landlord's to meet, or that are met by another row: never "overdue",
# never a case's next due date.
NOT_OVERDUE_KINDS = (
    "escalation_request_by",  # the resident's window to ask for the next stage
    "holding_response",  # met by telling the resident of the extension that created it
)


@dataclass(frozen=True)
class MeetingAction:
    """A staff action (or system event) and the deadline kinds it meets."""

    name: str
    words: str  # what the button and the audit log say
    kinds: tuple[str, ...]
    stage_bound: bool  # meets only the current stage's deadlines of these kinds


# Every kind of deadline the policies and Awaab's Law set has an action that meets it.
ACTIONS: dict[str, MeetingAction] = {
    action.name: action
    for action in (
        MeetingAction("acknowledgement_sent", "acknowledgement sent", ("acknowledge",), True),
        MeetingAction("called_back", "called the resident back", ("acknowledge",), True),
        MeetingAction("acknowledged_by_response", "answered before acknowledged", ("acknowledge",), True),
        MeetingAction(
            "response_sent", "response sent", ("respond", "acknowledge", "holding_response"), True
        ),
        MeetingAction("extension_told", "resident told of the extension", ("holding_response",), True),
        MeetingAction("made_safe", "made safe", ("make_safe",), False),
        MeetingAction("hazard_inspected", "hazard investigated", ("investigate_hazard",), False),
        MeetingAction("meeting_arranged", "meeting arranged", ("arrange_meeting",), True),
        MeetingAction("review_meeting_notified", "review meeting notified", ("notify_review_meeting",), True),
        MeetingAction("hearing_held", "panel hearing held", ("hold_hearing",), True),
    )
}
# The staff page offers these (the others happen as the system sends letters).
STAFF_ACTIONS = ("called_back", "made_safe", "hazard_inspected", "meeting_arranged",
                 "review_meeting_notified", "hearing_held")


def action_for(kind: str) -> MeetingAction | None:
    """The staff action that meets a deadline of `kind` (None: the resident's own window)."""
    for name in (*STAFF_ACTIONS, "response_sent", "extension_told"):
        if kind in ACTIONS[name].kinds:
            return ACTIONS[name]
    return None


# --- reading -------------------------------------------------------------------------------


def current(item: Item) -> list[Deadline]:
    """The item's deadlines now in force (superseded rows are history)."""
    return [d for d in item.deadlines if d.superseded_at is None]


def is_landlords(kind: str) -> bool:
    return kind not in NOT_OVERDUE_KINDS


def next_due(item: Item) -> datetime | None:
    """The earliest date the landlord still has to meet on this case, or None."""
    if item.case_id is not None or item.case_status != "open":
        return None
    open_dates = [d.due_at for d in current(item) if d.met_at is None and is_landlords(d.kind)]
    return min(open_dates) if open_dates else None


def refresh_next_due(item: Item) -> None:
    """The one writer of `items.next_due_at`: call after any change to deadlines or case status."""
    item.next_due_at = next_due(item)


@dataclass(frozen=True)
class DeadlineState:
    state: str  # open / overdue / met / met_late / resident (the resident's window)
    words: str


def state_of(deadline: Deadline, now: datetime) -> DeadlineState:
    """How a deadline stands: what the item page, the API and the simulation all show."""
    if deadline.met_at is not None:
        if deadline.met_at > deadline.due_at:
            late = _duration(deadline.met_at - deadline.due_at)
            return DeadlineState("met_late", f"met late, by {late}")
        return DeadlineState("met", "met on time")
    if not is_landlords(deadline.kind):
        return DeadlineState("resident", "the resident's window")
    if deadline.due_at < now:
        return DeadlineState("overdue", f"overdue by {_duration(now - deadline.due_at)}")
    return DeadlineState("open", f"{_duration(deadline.due_at - now)} left")


def _duration(delta: object) -> str:
    seconds = int(delta.total_seconds())  # type: ignore[attr-defined]
    days, rest = divmod(max(seconds, 0), 86400)
    if days:
        return f"{days} day{'s' * (days != 1)}"
    hours = rest // 3600
    if hours:
        return f"{hours} h"
    return f"{max(rest // 60, 1)} min"


def overdue_case_condition(now: datetime) -> ColumnElement[bool]:
    """SQL: an open case root with a landlord's deadline past due and unmet (queue, sidebar, reports)."""
    return and_(
        Item.case_id.is_(None),
        Item.case_status == "open",
        exists().where(
            Deadline.item_id == Item.id,
            Deadline.superseded_at.is_(None),
            Deadline.met_at.is_(None),
            Deadline.due_at < now,
            Deadline.kind.not_in(NOT_OVERDUE_KINDS),
        ),
    )


def as_computed(deadlines: Iterable[Deadline]) -> list[ComputedDeadline]:
    return [
        ComputedDeadline(kind=d.kind, stage=d.stage, due_at=d.due_at, basis=d.basis, policy=d.policy)
        for d in deadlines
    ]


# --- writing -------------------------------------------------------------------------------


def recompute(runtime: Runtime, session: Session, item: Item, *, reset: Iterable[str] = ()) -> None:
    """Supersede the item's current deadlines with ones computed afresh from the policy (a row that
    comes out exactly as it stands is kept, not replaced by a copy).

    A deadline already met stays met (same kind, same stage) unless its kind is in `reset` (a
    reopened case needs a new response, not a new acknowledgement).
    """
    now = runtime.clock.now()
    extended = item.details.get("extended_until")
    # Junk is never acknowledged or worked, so it owes nobody a date (junk is never applied when a
    # safety, safeguarding or complaint signal is present); a correction out of junk recomputes.
    computed = [] if item.queue == JUNK_QUEUE else compute_deadlines(
        runtime.policy,
        item_type=item.type,
        stage=item.complaint_stage,
        received_at=item.received_at,
        stage_started_at=item.stage_started_at,
        acknowledged_at=_acknowledged_at(session, item),
        responded_at=_responded_at(item),
        flags=item.flags,
        hazards=item.hazards,
        # A hazard reported as fixed, past or praised is recorded but starts no Awaab's Law clock.
        hazard_state=(item.explanation or {}).get("hazard_state", "live"),
        extended_until=datetime.fromisoformat(extended) if extended else None,
        calendar=runtime.calendar,
    )
    resets = set(reset)
    in_force = current(item)
    met: dict[tuple[str, str | None], datetime] = {}
    for row in in_force:
        if row.met_at is not None and row.kind not in resets:
            met[(row.kind, row.stage)] = row.met_at
    # A row computed again exactly as it stands (the same date, basis, policy and met state) stays:
    # superseding it with its own copy would tell a reader of the case's history that a date moved
    # when none did, and cost a worker an UPDATE and an INSERT for each (issue 14: after every
    # complaint's acknowledgement goes, its acknowledge deadline is computed again, unchanged).
    unchanged = {
        (row.kind, row.stage, row.due_at, row.basis, row.policy, row.met_at): row for row in in_force
    }
    kept: set[Deadline] = set()  # mapped rows hash and compare by identity
    for deadline in computed:
        met_at = met.get((deadline.kind, deadline.stage))
        same = unchanged.pop((deadline.kind, deadline.stage, deadline.due_at, deadline.basis, deadline.policy, met_at), None)
        if same is not None:
            kept.add(same)
            continue
        item.deadlines.append(
            Deadline(
                kind=deadline.kind,
                stage=deadline.stage,
                due_at=deadline.due_at,
                basis=deadline.basis,
                policy=deadline.policy,
                met_at=met_at,
            )
        )
    for row in in_force:
        if row not in kept:
            row.superseded_at = now
    refresh_next_due(item)


def mark_met(item: Item, action: str, *, at: datetime) -> list[Deadline]:
    """Record `action` as meeting the item's open deadlines of its kinds; returns those it met."""
    meeting = ACTIONS[action]
    met = []
    for deadline in current(item):
        if deadline.met_at is not None or deadline.kind not in meeting.kinds:
            continue
        if meeting.stage_bound and deadline.stage != item.complaint_stage:
            continue
        deadline.met_at = at
        met.append(deadline)
    refresh_next_due(item)
    return met


def open_kinds(item: Item) -> set[str]:
    return {d.kind for d in current(item) if d.met_at is None and is_landlords(d.kind)}


def _acknowledged_at(session: Session, item: Item) -> datetime | None:
    """When the current stage was acknowledged: when its acknowledge deadline was met (by the letter,
    a call back or the response), so the response date and TSM CH02 count from the same moment. A
    letter sent for an earlier stage (or before a late-arriving chaser began this one) doesn't count."""
    met = [
        d.met_at for d in current(item)
        if d.kind == "acknowledge" and d.met_at is not None and d.stage == item.complaint_stage
    ]
    return min(met) if met else None


def _responded_at(item: Item) -> datetime | None:
    stage = item.complaint_stage
    moments = [
        datetime.fromisoformat(r["at"]) for r in item.details.get("responses", []) if r.get("stage") == stage
    ]
    if item.stage_started_at is not None:
        moments = [m for m in moments if m >= item.stage_started_at]
    return max(moments).astimezone(UTC) if moments else None
