"""One action on many cases at once (assign a batch, close a batch of compliments, correct a type).

Each case is done in its own savepoint, so one that cannot be changed (a complaint a triage officer
may not close, a case closed meanwhile) is reported and the others still go through.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from intake import cases, notifications
from intake.close_rights import require_may_close
from intake.corrections import correct_item
from intake.errors import IntakeError, InvalidMessage
from intake.runtime import Runtime
from models import Item
from triage_rules.taxonomy import TYPES

MAX_BATCH = 200
ACTIONS = ("assign", "close", "correct_type")


@dataclass
class BulkOutcome:
    done: list[str] = field(default_factory=list)  # references
    refused: list[tuple[str, str]] = field(default_factory=list)  # (reference, why)


def apply_bulk(
    runtime: Runtime,
    session: Session,
    *,
    item_ids: Sequence[int],
    action: str,
    value: str,
    actor: str,
    role: str,
    staff: Collection[str],
    now: datetime,
) -> BulkOutcome:
    if action not in ACTIONS:
        raise InvalidMessage("choose what to do with the selected cases")
    if not item_ids:
        raise InvalidMessage("select at least one case")
    if len(item_ids) > MAX_BATCH:
        raise InvalidMessage(f"select at most {MAX_BATCH} cases at a time")
    if action == "assign" and value and value not in staff:
        raise InvalidMessage("choose a person from the list")
    if action == "close" and not value:
        raise InvalidMessage("choose the outcome to close the cases with")
    if action == "correct_type" and value not in TYPES:
        raise InvalidMessage("choose the type to give the cases")
    outcome = BulkOutcome()
    for item_id in dict.fromkeys(item_ids):  # each once, in the order selected
        item = session.get(Item, item_id)
        if item is None:
            outcome.refused.append((f"item {item_id}", "no such case"))
            continue
        reference = item.reference or f"item {item.id}"
        try:
            with session.begin_nested():
                _apply_one(runtime, session, item, action=action, value=value, actor=actor, role=role, now=now)
        except IntakeError as refusal:
            outcome.refused.append((reference, str(refusal)))
        else:
            outcome.done.append(reference)
    return outcome


def _apply_one(
    runtime: Runtime, session: Session, item: Item, *, action: str, value: str, actor: str, role: str, now: datetime
) -> None:
    if action == "assign":
        cases.assign(session, item, actor=actor, assignee=value or None)  # type: ignore[arg-type]
        notifications.case_assigned(session, item, assignee=value or None, actor=actor, now=now)
    elif action == "close":
        require_may_close(role, item.type, runtime.settings.triage_may_close)
        cases.close(runtime, session, item, actor=actor, outcome=value)
    else:
        correct_item(
            runtime, session, item, user=actor, type=value, categories=item.categories or [],
            flags=item.flags or [], queue=None, reason="corrected with others in one action",
        )
