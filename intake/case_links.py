"""Staff changes to what belongs to a case: unlink a follow-up, split a case, merge two cases.

Linking is automatic (`intake.cases.link_to_case`) and can be wrong: a shared phone, a family
email address. A person can undo it. Every change is audited on every item it touches, the
deadlines of each case affected are recomputed by `intake.deadlines`, and an item taken out of a
case becomes a case of its own with its own deadlines and (if it was never sent one) its own
acknowledgement — a complaint is never left hidden in another type's case.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import audit, cases, deadlines
from intake.acknowledgements import plan_acknowledgement
from intake.errors import InvalidTransition
from intake.routing import route_item
from intake.runtime import Runtime
from models import Acknowledgement, Item


def unlink(runtime: Runtime, session: Session, item: Item, *, actor: str, reason: str) -> Item:
    """Take one follow-up out of its case: it becomes a case of its own."""
    return split(runtime, session, [item], actor=actor, reason=reason)


def split(runtime: Runtime, session: Session, items: Sequence[Item], *, actor: str, reason: str) -> Item:
    """Move follow-ups of one case into a new case rooted at the earliest of them."""
    if not reason.strip():
        raise InvalidTransition("say why: the audit log keeps the reason for every change to a case")
    if not items:
        raise InvalidTransition("choose the messages to take out of the case")
    roots = {item.case_id for item in items}
    if None in roots or len(roots) != 1:
        raise InvalidTransition("only follow-ups of one case can be split from it")
    old_root = session.get(Item, roots.pop())
    assert old_root is not None
    ordered = sorted(items, key=lambda i: (i.received_at, i.id))
    new_root, others = ordered[0], ordered[1:]
    new_root.case_id = None
    new_root.case_status = "open"
    new_root.suppress_acknowledgement_reason = None
    new_root.details = {**new_root.details, "split_from": old_root.id}
    for other in others:
        other.case_id = new_root.id
    route_item(new_root, why=f"split from case {old_root.reference} by {actor}")
    cases.open_case(runtime, session, new_root)
    deadlines.recompute(runtime, session, new_root)
    deadlines.recompute(runtime, session, old_root)
    _acknowledge_if_never(runtime, session, new_root)
    for member in (old_root, *ordered):
        audit.record(
            session,
            actor=actor,
            action="case_split",
            item_id=member.id,
            from_case=old_root.reference,
            new_case=new_root.reference,
            moved=[i.id for i in ordered],
            reason=reason.strip(),
        )
    return new_root


def merge(runtime: Runtime, session: Session, source: Item, into: Item, *, actor: str, reason: str) -> None:
    """Make case `source` (and its follow-ups) part of case `into`; `source`'s dates give way to `into`'s."""
    if not reason.strip():
        raise InvalidTransition("say why: the audit log keeps the reason for every change to a case")
    if source.case_id is not None or into.case_id is not None:
        raise InvalidTransition("merge two cases: choose the case, not one of its follow-ups")
    if source.id == into.id:
        raise InvalidTransition("a case cannot be merged into itself")
    if into.case_status != "open":
        raise InvalidTransition("the case to merge into is closed: reopen it first")
    if source.type == "complaint" and into.type not in ("complaint", "service_request"):
        raise InvalidTransition(
            f"a complaint cannot be hidden in a {(into.type or 'unclassified').replace('_', ' ')} case: "
            "merge the other way, or correct the types first"
        )
    followers = list(session.scalars(select(Item).where(Item.case_id == source.id)))
    for member in (source, *followers):
        member.case_id = into.id
    into.flags = sorted(set(into.flags) | set(source.flags))
    into.hazards = sorted(set(into.hazards) | set(source.hazards))
    for row in deadlines.current(source):
        row.superseded_at = runtime.clock.now()
    deadlines.refresh_next_due(source)
    if source.type == "complaint" and into.type == "service_request":
        cases.escalate_to_complaint(runtime, session, into, trigger=source, actor=actor)
    else:
        deadlines.recompute(runtime, session, into)
    for member in (into, source, *followers):
        audit.record(
            session,
            actor=actor,
            action="case_merged",
            item_id=member.id,
            merged=source.reference,
            into=into.reference,
            reason=reason.strip(),
        )


def _acknowledge_if_never(runtime: Runtime, session: Session, item: Item) -> None:
    """A message that was only a follow-up was never acknowledged: as a case of its own, it is."""
    received = session.scalars(
        select(Acknowledgement).where(Acknowledgement.item_id == item.id, Acknowledgement.purpose == "received")
    ).first()
    if received is not None and received.status == "suppressed":
        session.delete(received)
        session.flush()
        received = None
    if received is None:
        plan_acknowledgement(runtime, session, item, purpose="received")
