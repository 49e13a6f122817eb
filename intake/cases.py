"""Cases: linking follow-ups to their case, complaint stages, and the staff actions on a case.

A case is its root item plus every follow-up whose `case_id` points at it. Only the root carries
deadlines and a complaint stage; every stage change asks `intake.deadlines` (the one owner of a
case's dates) to recompute them from the landlord's policy, and is audited. Unlinking, splitting
and merging cases live in `intake/case_links.py`.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from intake import audit, deadlines
from intake.acknowledgements import plan_acknowledgement
from intake.errors import InvalidTransition
from intake.references import find_references
from intake.routing import route_item
from intake.runtime import Runtime
from models import Acknowledgement, Item
from triage_rules.deadlines import initial_stage as first_stage
from triage_rules.deadlines import next_stage
from triage_rules.taxonomy import REVIEW_QUEUE

PHONE_CHANNELS = ("sms", "call_transcript")


def _processed_phone_items() -> tuple[ColumnElement[bool], ...]:
    """`items.channel IN PHONE_CHANNELS AND items.status = 'processed'` for a look-up by sender,
    written (column || '') so that the sender's index is the one the planner can use. SQLite keeps
    no statistics (nothing runs ANALYZE): offered the status index, it read every processed item
    of the landlord's to find a number's few — 4–6 ms a look-up at 6,000 items, 0.02 ms by the
    sender's index, and growing with the table (issue 14, the embedded worker's profile)."""
    return (Item.channel.concat("").in_(PHONE_CHANNELS), Item.status.concat("") == "processed")


# --- linking -------------------------------------------------------------------------------

# A case of these types may only hold messages of the same type (or not yet typed): a complaint, a
# repair or a hazard report is never hidden inside a compliment, a suggestion or an enquiry.
NARROW_CASE_TYPES = ("compliment", "suggestion", "enquiry")
# Writing as an elected representative's office is a different capacity: a different party.
CAPACITY_FLAGS = frozenset({"designated_person"})


def link_to_case(
    runtime: Runtime, session: Session, item: Item, *, phone_senders: Collection[str] | None = None
) -> Item | None:
    """The open case this item follows up, or None when it starts a new case.

    A quoted reference or thread id links only when the sender is a party to that case; a stranger
    quoting someone else's reference gets a new item held for review, so one resident's message
    never lands in another's case. A shared phone number alone is not enough: a different name or
    a different capacity (an MP's office, an advocate) on the same number is a different person.

    `phone_senders`: a batch's `phone_senders_to_look_up` — a number not in it has no earlier text
    to follow up, so its look-up is skipped (None: always look).
    """
    candidates = _thread_candidates(session, item) + _reference_candidates(session, item)
    for root in candidates:
        if root.id == item.id:
            continue
        if _is_party(session, root, item):
            if root.case_status != "open":
                return None
            if _can_hold(root, item):
                return root
            _mark_related(item, root)
            return None
        item.queue = REVIEW_QUEUE
        item.review_reason = f"quotes {root.reference or root.id}, a case this sender is not a party to; held for a person to check"
        item.details = {**item.details, "quoted_case_id": root.id}
        return None
    if (
        item.channel in PHONE_CHANNELS
        and item.sender_address
        and (phone_senders is None or item.sender_address in phone_senders)
    ):
        window_start = item.received_at - timedelta(days=runtime.settings.follow_up_window_days)
        # Only an unwritten item from the same number can change what this finds (rows keep their
        # sender): without one, the query need not write the batch's changes first (a flush an item).
        flush_first = _unwritten_from(session, item)
        with contextlib.nullcontext() if flush_first else session.no_autoflush:
            recent = session.scalars(
                select(Item)
                .where(
                    Item.sender_address == item.sender_address,
                    *_processed_phone_items(),
                    Item.id != item.id,
                    Item.case_status == "open",  # not STOP/HELP texts: stored closed, they are no case
                    Item.received_at >= window_start,
                    Item.received_at <= item.received_at,
                )
                .order_by(Item.received_at.desc())
                .limit(1)
            ).first()
        phone_root = session.get(Item, recent.case_root_id) if recent is not None else None
        if phone_root is not None and phone_root.case_status == "open" and _same_person(session, phone_root, item):
            if _can_hold(phone_root, item):
                return phone_root
            _mark_related(item, phone_root)
    return None


def phone_senders_to_look_up(runtime: Runtime, session: Session, batch: Sequence[Item]) -> set[str]:
    """The numbers of a batch's texts and call transcripts for which `link_to_case` may find an
    earlier item: those with a processed open item in the follow-up window (one query for the
    batch, its conditions a superset of each item's own), and those that sent more than one item of
    the batch (an earlier one, processed in this transaction, may be what a later one follows up).
    For any other number the per-item look-up finds nothing, so the batch skips it: an SMS batch
    made one such query per text (issue 14's worker profile)."""
    phones = [item for item in batch if item.channel in PHONE_CHANNELS and item.sender_address]
    if not phones:
        return set()
    senders = Counter(item.sender_address for item in phones if item.sender_address)
    window = timedelta(days=runtime.settings.follow_up_window_days)
    with session.no_autoflush:
        found = set(
            session.scalars(
                select(Item.sender_address)
                .where(
                    Item.sender_address.in_(sorted(senders)),
                    *_processed_phone_items(),
                    Item.case_status == "open",
                    Item.received_at >= min(item.received_at for item in phones) - window,
                    Item.received_at <= max(item.received_at for item in phones),
                )
                .distinct()
            )
        )
    return {sender for sender in senders if sender in found or senders[sender] > 1}


def _unwritten_from(session: Session, item: Item) -> bool:
    """Whether another item from `item`'s address has changes not yet written (a batch's earlier one)."""
    return any(
        isinstance(other, Item) and other is not item and other.sender_address == item.sender_address
        for pending in (session.new, session.dirty)
        for other in pending
    )


def _can_hold(root: Item, item: Item) -> bool:
    """A complaint is never hidden inside another type's case (a service request becomes one)."""
    if root.type not in NARROW_CASE_TYPES:
        return True
    if item.hazards or "urgent_safety" in item.flags:
        return False
    return item.type in (None, root.type)


def _mark_related(item: Item, root: Item) -> None:
    """It starts its own case, with a pointer to the case it seems to relate to."""
    item.details = {**item.details, "related_case_id": root.id}


def _names(value: str | None) -> str:
    return " ".join((value or "").lower().split())


def _same_person(session: Session, root: Item, item: Item) -> bool:
    """Same number, and nothing says it is someone else: no other name, no other capacity."""
    case_items = list(session.scalars(select(Item).where(or_(Item.id == root.id, Item.case_id == root.id))))
    if not any(earlier.sender_address == item.sender_address for earlier in case_items):
        return False
    names = {_names(earlier.sender_name) for earlier in case_items if earlier.sender_name}
    if item.sender_name and names and _names(item.sender_name) not in names:
        return False
    capacity = set(item.flags) & CAPACITY_FLAGS
    return capacity <= set(root.flags)


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
        start_stage(item, initial_stage(runtime, item), item.received_at)


def add_follow_up(runtime: Runtime, session: Session, item: Item, root: Item) -> bool:
    """Attach a follow-up; a dissatisfied chaser on an open service request makes it a complaint.

    Returns True when the root's deadlines need recomputing (the follow-up brought new flags).
    """
    item.case_id = root.id
    item.suppress_acknowledgement_reason = item.suppress_acknowledgement_reason or (
        f"follow-up on case {root.reference}: one acknowledgement per case"
    )
    new_flags = sorted(set(item.flags) - set(root.flags))
    if new_flags:
        root.flags = sorted(set(root.flags) | set(new_flags))
    audit.record(session, actor="worker", action="linked_to_case", item_id=item.id, case=root.reference)
    if root.type == "service_request" and item.type == "complaint":
        escalate_to_complaint(runtime, session, root, trigger=item, actor="worker")
        return False
    return bool(new_flags)


def escalate_to_complaint(
    runtime: Runtime, session: Session, root: Item, *, trigger: Item | None, actor: str
) -> None:
    before = root.type
    root.type = "complaint"
    started = trigger.received_at if trigger is not None else runtime.clock.now()
    start_stage(root, initial_stage(runtime, root), started)
    route_item(root, why=f"became a complaint (was {before})")
    deadlines.recompute(runtime, session, root)
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


# --- stages --------------------------------------------------------------------------------


def initial_stage(runtime: Runtime, item: Item) -> str | None:
    return first_stage(runtime.policy, item_type=item.type, flags=item.flags)


def start_stage(item: Item, stage: str | None, started_at: datetime) -> None:
    item.complaint_stage = stage
    item.stage_started_at = started_at
    item.details = {k: v for k, v in item.details.items() if k != "extended_until"}


def escalate(runtime: Runtime, session: Session, item: Item, *, actor: str, reason: str | None = None) -> str:
    _require_open_root(item)
    if item.type != "complaint":
        raise InvalidTransition("only a complaint can be escalated; correct its type first")
    following = next_stage(runtime.policy, item.complaint_stage)
    if following is None:
        raise InvalidTransition(
            "this is the final stage of the landlord's procedure: signpost the resident to the Housing Ombudsman"
        )
    before = item.complaint_stage
    start_stage(item, following, runtime.clock.now())
    deadlines.recompute(runtime, session, item)
    audit.record(
        session,
        actor=actor,
        action="escalated",
        item_id=item.id,
        before=before,
        after=following,
        reason=reason,
    )
    plan_acknowledgement(runtime, session, item, purpose=following)
    return following


def extend(
    runtime: Runtime, session: Session, item: Item, *, actor: str, until: datetime, reason: str
) -> Acknowledgement:
    """Extend the response date and tell the resident (the letter is planned here and sent by a job)."""
    _require_open_root(item)
    if not reason.strip():
        raise InvalidTransition("an extension needs a reason: the resident and the Ombudsman will ask for it")
    extensions = [*item.details.get("extensions", [])]
    item.details = {
        **item.details,
        "extended_until": until.astimezone(UTC).isoformat(),
        "extensions": [*extensions, {"until": until.astimezone(UTC).isoformat(), "stage": item.complaint_stage,
                                     "reason": reason.strip(), "by": actor}],
    }
    try:
        deadlines.recompute(runtime, session, item)
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
    purpose = f"extension_{len(extensions) + 1}"
    letter = plan_acknowledgement(runtime, session, item, purpose=purpose, extension_reason=reason.strip())
    if letter.status == "pending":
        # The holding reply is the letter itself, going now. When no letter can go (no contact
        # details, a landline) the holding reply stays open: staff tell the resident another way.
        deadlines.mark_met(item, "extension_told", at=runtime.clock.now())
    return letter


def record_response(
    runtime: Runtime, session: Session, item: Item, *, actor: str, summary: str, sent_at: datetime | None = None
) -> None:
    _require_open_root(item)
    at = sent_at or runtime.clock.now()
    responses = [
        *item.details.get("responses", []),
        {"at": at.isoformat(), "by": actor, "stage": item.complaint_stage},
    ]
    item.details = {**item.details, "responses": responses}
    if item.complaint_stage and "acknowledge" in deadlines.open_kinds(item):
        # Answered before it was acknowledged: the response acknowledges it too, and the response
        # date counts from that acknowledgement (capped at its due date), as TSM CH02 counts it.
        deadlines.mark_met(item, "acknowledged_by_response", at=at)
        deadlines.recompute(runtime, session, item)
    deadlines.mark_met(item, "response_sent", at=at)
    if item.complaint_stage:
        deadlines.recompute(runtime, session, item)  # the resident's window counts from the response
    audit.record(
        session,
        actor=actor,
        action="response_recorded",
        item_id=item.id,
        stage=item.complaint_stage,
        summary=summary,
    )


def record_action(
    runtime: Runtime, session: Session, item: Item, *, action: str, actor: str, note: str | None = None,
    at: datetime | None = None,
) -> list[str]:
    """A staff action that meets deadlines: made safe, hazard inspected, called back, ... (audited)."""
    _require_open_root(item)
    if action not in deadlines.STAFF_ACTIONS:
        raise InvalidTransition(f"unknown action {action!r}")
    meeting = deadlines.ACTIONS[action]
    if not set(meeting.kinds) & deadlines.open_kinds(item):
        raise InvalidTransition(f"nothing on this case is waiting for '{meeting.words}'")
    when = at or runtime.clock.now()
    met = deadlines.mark_met(item, action, at=when)
    if item.complaint_stage and any(d.kind == "acknowledge" for d in met):
        # A stage response counts from its acknowledgement (a call back is one): count from it now.
        deadlines.recompute(runtime, session, item)
    if action == "called_back":
        for acknowledgement in item.acknowledgements:
            if acknowledgement.status == "needs_callback":
                acknowledgement.status = "called_back"
                acknowledgement.sent_at = when
    audit.record(
        session, actor=actor, action=action, item_id=item.id, kinds=[d.kind for d in met], note=note
    )
    return [d.kind for d in met]


def close(runtime: Runtime, session: Session, item: Item, *, actor: str, outcome: str, remedy: str | None = None) -> None:
    _require_open_root(item)
    if not outcome.strip():
        raise InvalidTransition("closing a case needs an outcome")
    item.case_status = "closed"
    item.outcome = outcome
    item.closed_at = runtime.clock.now()
    deadlines.refresh_next_due(item)
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
        "reopened": [*item.details.get("reopened", []), runtime.clock.now().isoformat()],
    }
    # Reopening asks for a new response, not a new acknowledgement.
    deadlines.recompute(runtime, session, item, reset=("respond", "holding_response"))
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


def pending_acknowledgement_ids(session: Session, *item_ids: int) -> list[int]:
    """The acknowledgements of these items still to be sent (pending, or due a retry), in id order."""
    if not item_ids:
        return []
    return list(
        session.scalars(
            select(Acknowledgement.id)
            .where(
                Acknowledgement.item_id.in_(sorted(set(item_ids))),
                Acknowledgement.status.in_(("pending", "retry")),
            )
            .order_by(Acknowledgement.id)
        )
    )


# Kept for callers written before intake/deadlines.py owned a case's dates.
current_deadlines = deadlines.current
