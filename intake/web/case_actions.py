"""Staff actions that meet deadlines (made safe, hazard inspected, called back, ...) and that change
what belongs to a case (unlink, split, merge). Thin handlers: the work is in `intake.cases` and
`intake.case_links`; each runs in one transaction through the item page's `_act`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import case_links, cases, deadlines
from intake.api.deps import RuntimeDep
from intake.references import parse_reference
from intake.web.deps import ManagerUser, TriageUser
from intake.web.staff_items import FieldError, _act, _form_text, _required_text
from models import Item

router = APIRouter()


@router.post("/items/{item_id}/deadline-action")
async def deadline_action(item_id: int, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        name = _form_text(form, "action", 40)
        if name not in deadlines.STAFF_ACTIONS:
            raise FieldError("case-actions", "Choose an action from the list")
        met = cases.record_action(
            runtime, session, item, action=name, actor=user.username, note=_form_text(form, "note") or None
        )
        return f"Recorded: {deadlines.ACTIONS[name].words}. Met: {', '.join(k.replace('_', ' ') for k in met)}."

    return await _act(request, runtime, item_id, user, action)


@router.post("/items/{item_id}/unlink")
async def unlink(item_id: int, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        reason = _required_text(
            form, "reason", field="case-actions", missing="Enter why this message is not part of the case"
        )
        new_root = case_links.unlink(runtime, session, item, actor=user.username, reason=reason)
        return f"Taken out of the case: {new_root.reference} is now a case of its own with its own deadlines."

    return await _act(request, runtime, item_id, user, action)


@router.post("/items/{item_id}/merge")
async def merge(item_id: int, request: Request, runtime: RuntimeDep, user: ManagerUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        reference = _form_text(form, "into", 40)
        parsed = parse_reference(reference) if reference else None
        if parsed is None:
            raise FieldError("case-actions", "Enter the reference of the case to merge into")
        into = session.scalars(select(Item).where(Item.id == parsed[1])).first()
        if into is None:
            raise FieldError("case-actions", f"There is no case {reference}")
        reason = _form_text(form, "reason")
        case_links.merge(runtime, session, item, into, actor=user.username, reason=reason)
        return f"Merged into case {into.reference}."

    return await _act(request, runtime, item_id, user, action)
