"""Cases: linking follow-ups to their case, complaint stages and deadlines.

A case is its root item plus every follow-up whose `case_id` points at it. Only the root carries
deadlines and a complaint stage; every stage change recomputes them from the landlord's policy and
is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake import audit
from intake.errors import InvalidTransition
from intake.references import find_references
from intake.runtime import Runtime
from models import Acknowledgement, Deadline, Item
from triage_rules.taxonomy import REVIEW_QUEUE

PHONE_CHANNELS = ("sms", "call_transcript")


# --- linking -------------------------------------------------------------------------------


def link_to_case(runtime: Runtime, session: Session, item: Item) -> Item | None:
    """The open case this item follows up, or None when it starts a new case.

    A quoted reference or thread id links only when the sender is a party to that case; a stranger
    quoting someone else's reference gets a new item held for review, so one resident's message
    never lands in another's case.
    """
    candidates = _thread_candidates(session, item) + _reference_candidates(session, item)
    for root in candidates:
        if root.id == item.id:
            continue
        if _is_party(session, root, item):
            return root if root.case_status == "open" else None
        item.queue = REVIEW_QUEUE
        item.review_reason = f"quotes {root.reference or root.id}, a case this sender is not a party to; held for a person to check"
        item.details = {**item.details, "quoted_case_id": root.id}
        return None
    if item.channel in PHONE_CHANNELS and item.sender_address:
        window_start = item.received_at - timedelta(days=runtime.settings.follow_up_window_days)
        recent = session.scalars(
            select(Item)
            .where(
                Item.sender_address == item.sender_address,
                Item.channel.in_(PHONE_CHANNELS),
                Item.id != item.id,
                Item.status == "processed",
                Item.case_status == "open",  # not STOP/HELP texts: stored closed, they are no case
                Item.received_at >= window_start,
                Item.received_at <= item.received_at,
            )
            .order_by(Item.received_at.desc())
            .limit(1)
        ).first()
        if recent is not None:
            root = session.get(Item, recent.case_root_id)
            if root is not None and root.case_status == "open":
                return root
    return None


def _thread_candidates(session: Session, item: Item) -> list[Item]:
    if not item.thread_keys:
        return []
    keys = list(item.thread_keys)
    roots: list[Item] = []
    for earlier in session.scalars(
        select(Item).where(Item.external_id.in_(keys), Item.channel == item.channel, Item.id != item.id)
    ):
        roots.append(session.get(Item, earlier.case_root_id) or earlier)
    for acknowledgement in session.scalars(
        select(Acknowledgement).where(Acknowledgement.provider_id.in_(keys))
    ):
        root = session.get(Item, acknowledgement.item.case_root_id)
        if root is not None:
            roots.append(root)
    return list(dict.fromkeys(roots))


def _reference_candidates(session: Session, item: Item) -> list[Item]:
    roots: list[Item] = []
    for year, item_id in find_references(item.subject):
        quoted = session.get(Item, item_id)
        if quoted is None or quoted.received_at.year != year or quoted.id == item.id:
            continue
        root = session.get(Item, quoted.case_root_id)
        if root is not None:
            roots.append(root)
    return list(dict.fromkeys(roots))


def _is_party(session: Session, root: Item, item: Item) -> bool:
    """The sender wrote in on this case before (same address or same contact)."""
    if not item.sender_address and item.contact_id is None:
        return False
    conditions = []
    if item.sender_address:
        conditions.append(Item.sender_address == item.sender_address)
    if item.contact_id is not None:
        conditions.append(Item.contact_id == item.contact_id)
    party = session.scalars(
        select(Item.id).where(or_(Item.id == root.id, Item.case_id == root.id), or_(*conditions)).limit(1)
    ).first()
    return party is not None


def open_case(runtime: Runtime, session: Session, item: Item) -> None:
    """A new case: the item is its own root; complaints start at the policy's first stage."""
    item.case_id = None
    if item.type == "complaint":
        _start_stage(runtime, item, _initial_stage(runtime, item), item.received_at)
    recompute_deadlines(runtime, session, item)


def add_follow_up(runtime: Runtime, session: Session, item: Item, root: Item) -> None:
    """Attach a follow-up; a dissatisfied chaser on an open service request makes it a complaint."""
    item.case_id = root.id
    if item.queue != "emergency" and not (item.review_reason and item.queue == REVIEW_QUEUE):
        item.queue = root.queue
    item.suppress_acknowledgement_reason = item.suppress_acknowledgement_reason or (
        f"follow-up on case {root.reference}: one acknowledgement per case"
    )
    new_flags = sorted(set(item.flags) - set(root.flags))
    if new_flags:
        root.flags = sorted(set(root.flags) | set(new_flags))
    audit.record(session, actor="worker", action="linked_to_case", item_id=item.id, case=root.reference)
    if root.type == "service_request" and item.type == "complaint":
        escalate_to_complaint(runtime, session, root, trigger=item, actor="worker")
    elif new_flags:
        recompute_deadlines(runtime, session, root)


def escalate_to_complaint(
    runtime: Runtime, session: Session, root: Item, *, trigger: Item | None, actor: str
) -> None:
    from intake.acknowledgements import plan_acknowledgement
    from triage_rules.routing import route

    before = root.type
    root.type = "complaint"
    started = trigger.received_at if trigger is not None else datetime.now(UTC)
    _start_stage(runtime, root, _initial_stage(runtime, root), started)
    root.queue = route("complaint", root.flags, confident=True).queue
    recompute_deadlines(runtime, session, root)
    audit.record(
        session,
        actor=actor,
        action="became_complaint",
        item_id=root.id,
        before=before,
        trigger_item=trigger.id if trigger is not None else None,
        stage=root.complaint_stage,
    )
    plan_acknowledgement(runtime, session, root, purpose="complaint")


# --- stages and deadlines ------------------------------------------------------------------


def _initial_stage(runtime: Runtime, item: Item) -> str | None:
    from triage_rules.deadlines import initial_stage

    return initial_stage(runtime.policy, item_type=item.type, flags=item.flags)


def _start_stage(runtime: Runtime, item: Item, stage: str | None, started_at: datetime) -> None:
    item.complaint_stage = stage
    item.stage_started_at = started_at
    item.details = {k: v for k, v in item.details.items() if k != "extended_until"}


def recompute_deadlines(
    runtime: Runtime, session: Session, item: Item, *, now: datetime | None = None
) -> None:
    """Supersede the item's current deadlines with ones computed afresh from the policy."""
    from triage_rules.deadlines import compute_deadlines

    now = now or datetime.now(UTC)
    extended = item.details.get("extended_until")
    # The acknowledgement of the current stage: one sent before the stage began doesn't count.
    acknowledged_query = select(Acknowledgement.sent_at).where(
        Acknowledgement.item_id == item.id, Acknowledgement.sent_at.is_not(None)
    )
    if item.stage_started_at is not None:
        acknowledged_query = acknowledged_query.where(Acknowledgement.sent_at >= item.stage_started_at)
    acknowledged = session.scalars(acknowledged_query.order_by(Acknowledgement.sent_at).limit(1)).first()
    computed = compute_deadlines(
        runtime.policy,
        item_type=item.type,
        stage=item.complaint_stage,
        received_at=item.received_at,
        stage_started_at=item.stage_started_at,
        acknowledged_at=acknowledged,
        flags=item.flags,
        hazards=item.hazards,
        hazard_state=(item.explanation or {}).get("hazard_state", "live"),
        extended_until=datetime.fromisoformat(extended) if extended else None,
        calendar=runtime.calendar,
    )
    # A deadline already met stays met when its dates are recomputed (same kind, same stage).
    met: dict[tuple[str, str | None], datetime] = {}
    for current in item.deadlines:
        if current.superseded_at is None:
            current.superseded_at = now
            if current.met_at is not None:
                met[(current.kind, current.stage)] = current.met_at
    for deadline in computed:
        item.deadlines.append(
            Deadline(
                kind=deadline.kind,
                stage=deadline.stage,
                due_at=deadline.due_at,
                basis=deadline.basis,
                policy=deadline.policy,
                met_at=met.get((deadline.kind, deadline.stage)),
            )
        )
    open_dates = [d.due_at for d in computed if (d.kind, d.stage) not in met]
    item.next_due_at = min(open_dates) if open_dates and item.case_status == "open" else None


def current_deadlines(item: Item) -> list[Deadline]:
    return [d for d in item.deadlines if d.superseded_at is None]


def escalate(runtime: Runtime, session: Session, item: Item, *, actor: str, reason: str | None = None) -> str:
    from triage_rules.deadlines import next_stage

    _require_open_root(item)
    if item.type != "complaint":
        raise InvalidTransition("only a complaint can be escalated; correct its type first")
    following = next_stage(runtime.policy, item.complaint_stage)
    if following is None:
        raise InvalidTransition(
            "this is the final stage of the landlord's procedure: signpost the resident to the Housing Ombudsman"
        )
    before = item.complaint_stage
    _start_stage(runtime, item, following, datetime.now(UTC))
    recompute_deadlines(runtime, session, item)
    audit.record(
        session,
        actor=actor,
        action="escalated",
        item_id=item.id,
        before=before,
        after=following,
        reason=reason,
    )
    from intake.acknowledgements import plan_acknowledgement

    plan_acknowledgement(runtime, session, item, purpose=following)
    return following


def extend(
    runtime: Runtime, session: Session, item: Item, *, actor: str, until: datetime, reason: str
) -> None:
    _require_open_root(item)
    if not reason.strip():
        raise InvalidTransition("an extension needs a reason: the resident and the Ombudsman will ask for it")
    item.details = {**item.details, "extended_until": until.astimezone(UTC).isoformat()}
    try:
        recompute_deadlines(runtime, session, item)
    except ValueError as error:
        raise InvalidTransition(str(error)) from error
    audit.record(
        session,
        actor=actor,
        action="extended",
        item_id=item.id,
        stage=item.complaint_stage,
        until=until.isoformat(),
        reason=reason,
    )


def record_response(
    session: Session, item: Item, *, actor: str, summary: str, sent_at: datetime | None = None
) -> None:
    _require_open_root(item)
    at = sent_at or datetime.now(UTC)
    for deadline in current_deadlines(item):
        if (
            deadline.kind in {"respond", "acknowledge"}
            and deadline.stage == item.complaint_stage
            and deadline.met_at is None
        ):
            deadline.met_at = at
    unmet = [d.due_at for d in current_deadlines(item) if d.met_at is None]
    item.next_due_at = min(unmet) if unmet else None
    responses = [
        *item.details.get("responses", []),
        {"at": at.isoformat(), "by": actor, "stage": item.complaint_stage},
    ]
    item.details = {**item.details, "responses": responses}
    audit.record(
        session,
        actor=actor,
        action="response_recorded",
        item_id=item.id,
        stage=item.complaint_stage,
        summary=summary,
    )


def close(session: Session, item: Item, *, actor: str, outcome: str, remedy: str | None = None) -> None:
    _require_open_root(item)
    if not outcome.strip():
        raise InvalidTransition("closing a case needs an outcome")
    item.case_status = "closed"
    item.outcome = outcome
    item.closed_at = datetime.now(UTC)
    item.next_due_at = None
    if remedy:
        item.details = {**item.details, "remedy": remedy}
    audit.record(session, actor=actor, action="closed", item_id=item.id, outcome=outcome, remedy=remedy)


def reopen(runtime: Runtime, session: Session, item: Item, *, actor: str, reason: str) -> None:
    if item.case_status != "closed":
        raise InvalidTransition("only a closed case can be reopened")
    item.case_status = "open"
    item.closed_at = None
    item.details = {
        **item.details,
        "reopened": [*item.details.get("reopened", []), datetime.now(UTC).isoformat()],
    }
    recompute_deadlines(runtime, session, item)
    audit.record(session, actor=actor, action="reopened", item_id=item.id, reason=reason)


def assign(session: Session, item: Item, *, actor: str, assignee: str) -> None:
    before = item.assigned_to
    item.assigned_to = assignee
    audit.record(session, actor=actor, action="assigned", item_id=item.id, before=before, after=assignee)


def _require_open_root(item: Item) -> None:
    if item.case_id is not None:
        raise InvalidTransition("this item is a follow-up: act on its case instead")
    if item.case_status != "open":
        raise InvalidTransition("the case is closed")


def pending_acknowledgement_ids(session: Session, item_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Acknowledgement.id).where(
                Acknowledgement.item_id == item_id, Acknowledgement.status.in_(("pending", "retry"))
            )
        )
    )
