"""Staff corrections of an item's labels: stored for training, audited, and acted on at once.

A correction moves the item to its new queue, recomputes its deadlines from the policy, and — when
the type becomes `complaint` — starts the complaint stage and plans the complaint acknowledgement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import audit, case_links, cases, deadlines
from intake.cases import NARROW_CASE_TYPES
from intake.errors import InvalidMessage
from intake.routing import decide
from intake.runtime import Runtime
from models import Correction, Item
from triage_rules.taxonomy import CATEGORIES, FLAGS, QUEUES, REVIEW_QUEUE, TYPES


@dataclass(frozen=True)
class CorrectionOutcome:
    correction_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    became_complaint: bool

    @property
    def moved(self) -> bool:
        return self.before.get("queue") != self.after.get("queue")


def labels_of(item: Item) -> dict[str, Any]:
    return {
        "type": item.type,
        "categories": sorted(item.categories or []),
        "flags": sorted(item.flags or []),
        "queue": item.queue,
    }


def _checked(values: Iterable[str], allowed: tuple[str, ...], what: str) -> list[str]:
    chosen = sorted(set(values))
    unknown = [value for value in chosen if value not in allowed]
    if unknown:
        raise InvalidMessage(f"unknown {what}: {', '.join(unknown)}")
    return chosen


class LabelsUnchanged(InvalidMessage):
    """The labels given are the ones the item has: nothing to correct (the officer agrees with them)."""


def correct_item(
    runtime: Runtime,
    session: Session,
    item: Item,
    *,
    user: str,
    type: str,  # noqa: A002 - the taxonomy's own word
    categories: Iterable[str],
    flags: Iterable[str],
    queue: str | None,
    reason: str | None,
) -> CorrectionOutcome:
    """Apply staff labels to `item`. `queue` None: the queue follows from type and flags, as routing says."""
    if type not in TYPES:
        raise InvalidMessage(f"unknown type {type!r}; expected one of {', '.join(TYPES)}")
    chosen_categories = _checked(categories, CATEGORIES, "category")
    chosen_flags = _checked(flags, FLAGS, "flag")
    if chosen_categories and type != "complaint":
        raise InvalidMessage("categories are for complaints only: clear them or make the type a complaint")
    if queue is not None and queue not in QUEUES:
        raise InvalidMessage(f"unknown queue {queue!r}")
    new_queue = queue or decide(type, chosen_flags).queue
    before = labels_of(item)
    after = {"type": type, "categories": chosen_categories, "flags": chosen_flags, "queue": new_queue}
    if after == before:
        raise LabelsUnchanged("nothing has changed: the item already has these labels")

    becomes_complaint = type == "complaint" and item.type != "complaint"
    stops_being_complaint = item.type == "complaint" and type != "complaint"
    item.categories = chosen_categories
    item.flags = chosen_flags
    if queue is None or new_queue != REVIEW_QUEUE:
        item.review_reason = None  # a person has now looked at it
    routing_reason = f"corrected by {user}: {item.queue} → {new_queue}"
    # The model's confidence stays as it was (it is about the model's label); pages show who set these.
    item.details = {**item.details, "labelled_by": user}

    root = session.get(Item, item.case_root_id) if item.case_id is not None else item
    if root is not None and root is not item:
        # As when a follow-up arrives: a flag found on a follow-up applies to its whole case.
        root.flags = sorted(set(root.flags) | set(chosen_flags))
    if becomes_complaint and item.case_id is None:
        # The complaint was made when the message arrived: its clock starts at receipt.
        cases.escalate_to_complaint(runtime, session, item, trigger=item, actor=user)
    else:
        item.type = type
        if stops_being_complaint and item.case_id is None:
            item.complaint_stage = None
            item.stage_started_at = None
    item.queue = new_queue
    item.routing_reason = routing_reason
    if root is not None and root is not item and becomes_complaint and root.type in NARROW_CASE_TYPES:
        # A complaint is never hidden in a compliment, suggestion or enquiry case: it becomes its own.
        case_links.split(runtime, session, [item], actor=user, reason=f"a complaint cannot sit in a {root.type} case")
    elif root is not None and root is not item and becomes_complaint and root.type != "complaint":
        cases.escalate_to_complaint(runtime, session, root, trigger=item, actor=user)
    elif not (becomes_complaint and item.case_id is None):
        deadlines.recompute(runtime, session, root if root is not None else item)
    if item.case_id is None and type in NARROW_CASE_TYPES:
        for follow_up in session.scalars(select(Item).where(Item.case_id == item.id, Item.type == "complaint")):
            case_links.split(
                runtime, session, [follow_up], actor=user, reason=f"a complaint cannot sit in a {type} case"
            )

    correction = Correction(
        item_id=item.id, corrected_by=user, before=before, after=after, reason=(reason or "").strip() or None
    )
    session.add(correction)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="corrected",
        item_id=item.id,
        correction_id=correction.id,
        before=before,
        after=after,
        reason=correction.reason,
    )
    return CorrectionOutcome(
        correction_id=correction.id, before=before, after=after, became_complaint=becomes_complaint
    )

