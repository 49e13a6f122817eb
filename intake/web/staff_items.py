"""The item page, the correction form and the case actions (assign, escalate, extend, respond, close)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import cases, notifications, presence
from intake.api.deps import RuntimeDep
from intake.attachment_previews import previewable_type
from intake.case_notes import notes_on_case
from intake.close_rights import may_close, require_may_close
from intake.corrections import CorrectionOutcome, LabelsUnchanged, correct_item
from intake.errors import InvalidMessage, InvalidTransition
from intake.formatting import UK, label
from intake.items import queue_pending_acknowledgements
from intake.privacy import access
from intake.privacy.erasure import visible_to
from intake.resident_history import other_cases
from intake.runtime import Runtime
from intake.users import list_users
from intake.web.auth import StaffUser
from intake.web.deps import ManagerUser, RowId, TriageUser
from intake.web.flash import set_flash
from intake.web.item_view import load_item_view
from intake.web.pages import PageNotFound
from intake.web.queue_walk import MAX_FROM_LENGTH, came_from, next_case_in
from intake.web.staff_queues import QUEUE_NAMES
from intake.web.templating import render
from models import Attachment, Item, RawMessage
from triage_rules.taxonomy import CATEGORIES, FLAGS, QUEUES, TYPES

log = logging.getLogger(__name__)
router = APIRouter()

# Keys for the common corrections (see docs/workspace.md); only active outside text fields.
TYPE_KEYS = {"complaint": "c", "service_request": "r", "enquiry": "e", "compliment": "p", "suggestion": "i"}
OUTCOMES = {
    "upheld": "Upheld",
    "partly_upheld": "Partly upheld",
    "not_upheld": "Not upheld",
    "resolved": "Resolved (not a complaint)",
    "withdrawn": "Withdrawn by the resident",
    "no_further_action": "No further action needed",
}


def _form_text(form: Any, name: str, limit: int = 5000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def item_page(
    request: Request,
    runtime: Runtime,
    item_id: int,
    user: StaffUser,
    *,
    errors: dict[str, str] | None = None,
    proposed: dict[str, Any] | None = None,
    status_code: int = 200,
    from_view: str | None = None,
) -> HTMLResponse:
    # Read everything in a short unit of work, then render with the session closed: on SQLite an open
    # session holds the write lock, and rendering a long message must never block the sweeper.
    with runtime.database.session() as session:
        view = load_item_view(runtime, session, item_id)
        view.item.attachments  # noqa: B018 - loaded now: the page reads them after the session closes
        now = runtime.clock.now()
        presence.note_viewing(session, item_id=view.root.id, username=user.username, now=now)
        viewers = presence.others_viewing(session, item_id=view.root.id, username=user.username, now=now)
        notes = notes_on_case(session, view.root.id)
        # (username, what colleagues call them): the assignee list shows names, the form sends usernames
        staff = [(u.username, u.full_name or u.username) for u in list_users(session) if u.active]
        resident_history = other_cases(session, view.root, include_restricted=user.role == "admin")
    labels = proposed or {
        "type": view.item.type,
        "categories": list(view.item.categories or []),
        "flags": list(view.item.flags or []),
        "queue": "",
        "reason": "",
    }
    return render(
        request,
        "item.html",
        {
            "page_title": view.item.reference or f"Item {view.item.id}",
            "nav": "queues",
            "wide": True,
            "view": view,
            "item": view.item,
            "root": view.root,
            "labels": labels,
            "errors": errors or {},
            "types": TYPES,
            "type_keys": TYPE_KEYS,
            "categories": CATEGORIES,
            "flags": FLAGS,
            "queues": QUEUES,
            "queue_names": QUEUE_NAMES,
            "outcomes": OUTCOMES,
            "staff": staff,
            "notes": notes,
            "resident_history": resident_history,
            "from_view": came_from(from_view),
            "viewers": viewers,
            "previews": {a.id: previewable_type(a.content) for a in view.item.attachments},
            "may_close": may_close(user.role, view.root.type, runtime.settings.triage_may_close),
        },
        user=user,
        status_code=status_code,
    )


@router.get("/items/{item_id}", response_class=HTMLResponse)
def show_item(item_id: RowId, request: Request, runtime: RuntimeDep, user: TriageUser) -> HTMLResponse:
    _record_item_view(runtime, item_id, user)
    # The page reads in its own short session and renders after it closes (item_page).
    return item_page(request, runtime, item_id, user, from_view=request.query_params.get("from"))


def _record_item_view(runtime: Runtime, item_id: int, user: StaffUser) -> None:
    """Before a page shows an item (its page, its reply form): hidden unless this user may see it,
    and the view recorded in the access log, in one short transaction."""
    with runtime.database.session() as session:
        _check_visible(session, item_id, user)
        access.record_view(session, actor=user.username, action=access.VIEW_ITEM, item_id=item_id)


def _check_visible(session: Session, item_id: int, user: StaffUser) -> None:
    """A restricted item (intake/privacy) does not exist for anyone but admins."""
    item = session.get(Item, item_id)
    if item is None or not visible_to(user.role, item):
        raise PageNotFound(f"There is no item {item_id}.")


@router.get("/items/{item_id}/attachments/{attachment_id}")
def download_attachment(item_id: RowId, attachment_id: RowId, runtime: RuntimeDep, user: TriageUser) -> Response:
    with runtime.database.session() as session:
        _check_visible(session, item_id, user)
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or attachment.item_id != item_id or attachment.content is None:
            raise PageNotFound("no such attachment (or it was too large to keep)")
        access.record_view(session, actor=user.username, action=access.VIEW_ATTACHMENT, item_id=item_id,
                           target=f"attachment:{attachment_id}")
        # Always a download, never shown inline: a file from outside must not run in our origin.
        safe_name = "".join(ch for ch in attachment.filename if ch.isalnum() or ch in "._- ")[:120] or "attachment"
        return Response(
            attachment.content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{safe_name}"'},
        )


@router.get("/items/{item_id}/attachments/{attachment_id}/preview")
def preview_attachment(item_id: RowId, attachment_id: RowId, runtime: RuntimeDep, user: TriageUser) -> Response:
    """An image or PDF shown in the browser, typed from its bytes; anything else is refused here."""
    with runtime.database.session() as session:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or attachment.item_id != item_id or attachment.content is None:
            raise PageNotFound("no such attachment (or it was too large to keep)")
        media_type = previewable_type(attachment.content)
        if media_type is None:
            raise PageNotFound("this attachment cannot be previewed: download it instead")
        return Response(
            attachment.content,
            media_type=media_type,
            headers={
                "Content-Disposition": "inline",
                "X-Content-Type-Options": "nosniff",
                # Nothing in the file may load or run anything, and only our own pages may embed it.
                "Content-Security-Policy": "default-src 'none'; img-src 'self'; frame-ancestors 'self'",
                "Cache-Control": "no-store",
            },
        )


@router.get("/items/{item_id}/raw")
def download_raw(item_id: RowId, runtime: RuntimeDep, user: TriageUser) -> Response:
    with runtime.database.session() as session:
        _check_visible(session, item_id, user)
        raw = session.scalars(select(RawMessage).where(RawMessage.item_id == item_id)).first()
        if raw is None:
            raise PageNotFound(f"no original message for item {item_id}")
        access.record_view(session, actor=user.username, action=access.VIEW_RAW, item_id=item_id)
        return Response(
            raw.content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="item-{item_id}-original.txt"'},
        )


async def _act(
    request: Request,
    runtime: Runtime,
    item_id: int,
    user: StaffUser,
    action: Callable[[Session, Item, Any], str],
) -> Response:
    """Run one case action in one transaction; on a refusal show the item page with the reason."""
    form = await request.form()
    try:
        with runtime.database.session() as session:
            item = session.get(Item, item_id)
            if item is None:
                raise PageNotFound(f"no item {item_id}")
            message = action(session, item, form)
    except (InvalidTransition, InvalidMessage) as refusal:
        field = getattr(refusal, "field", None) or "case-actions"
        return item_page(
            request,
            runtime,
            item_id,
            user,
            errors={field: str(refusal)[0].upper() + str(refusal)[1:]},
            status_code=409 if isinstance(refusal, InvalidTransition) else 400,
        )
    queue_pending_acknowledgements(runtime, item_id)
    from_view = came_from(_form_text(form, "from", MAX_FROM_LENGTH))  # keep the list being worked
    query = f"?{urlencode({'from': from_view})}" if from_view else ""
    response = RedirectResponse(f"/staff/items/{item_id}{query}", status_code=303)
    set_flash(request, response, message)
    return response


class FieldError(InvalidMessage):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _required_text(form: Any, name: str, *, field: str, missing: str) -> str:
    """A form's text that may not be left blank: the text, or a FieldError on `field` saying `missing`."""
    value = _form_text(form, name)
    if not value:
        raise FieldError(field, missing)
    return value


@router.post("/items/{item_id}/correct")
async def correct(item_id: RowId, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    form = await request.form()
    proposed: dict[str, Any] = {
        "type": _form_text(form, "type", 40),
        "categories": [v for v in form.getlist("categories") if isinstance(v, str)],
        "flags": [v for v in form.getlist("flags") if isinstance(v, str)],
        "queue": _form_text(form, "queue", 40),
        "reason": _form_text(form, "reason", 2000),
    }
    from_view = came_from(_form_text(form, "from", MAX_FROM_LENGTH))
    then_next = _form_text(form, "then", 10) == "next" and from_view is not None
    errors: dict[str, str] = {}
    outcome: CorrectionOutcome | None = None
    if proposed["type"] not in TYPES:
        errors["type"] = "Select the type"
    if proposed["queue"] and proposed["queue"] not in QUEUES:
        errors["queue"] = "Select a queue from the list"
    if not errors:
        try:
            with runtime.database.session() as session:
                item = session.get(Item, item_id)
                if item is None:
                    raise PageNotFound(f"no item {item_id}")
                outcome = correct_item(
                    runtime,
                    session,
                    item,
                    user=user.username,
                    type=proposed["type"],
                    categories=proposed["categories"],
                    flags=proposed["flags"],
                    queue=proposed["queue"] or None,
                    reason=proposed["reason"],
                )
        except LabelsUnchanged as unchanged:
            if not then_next:
                text = str(unchanged)
                errors["type"] = text[0].upper() + text[1:]
            else:  # the officer agrees with the labels and moves on: nothing to save
                outcome = None
        except InvalidMessage as refusal:
            text = str(refusal)
            errors["categories" if "categor" in text else "type"] = text[0].upper() + text[1:]
    if errors:
        return item_page(
            request, runtime, item_id, user, errors=errors, proposed=proposed, status_code=400, from_view=from_view
        )
    message = "Labels kept as they were" if outcome is None else _correction_message(outcome)
    queue_pending_acknowledgements(runtime, item_id)
    target = f"/staff/items/{item_id}" + (f"?{urlencode({'from': from_view})}" if from_view else "")
    if then_next and from_view:
        with runtime.database.session() as session:
            following = next_case_in(
                session, from_view, current_id=item_id, now=runtime.clock.now(), username=user.username
            )
        if following is None:
            target, message = from_view, message + ". That was the last case in this list"
        else:
            target = f"/staff/items/{following}?{urlencode({'from': from_view})}"
    response = RedirectResponse(target, status_code=303)
    set_flash(request, response, message + ".")
    return response


def _correction_message(outcome: CorrectionOutcome) -> str:
    before, after = outcome.before, outcome.after
    message = f"Correction saved: {label(after['type'])}"
    if outcome.moved:
        message += f". Moved from {QUEUE_NAMES.get(before['queue'], before['queue'])} to {QUEUE_NAMES.get(after['queue'], after['queue'])}"
    if outcome.became_complaint:
        message += ". It is now a complaint: the complaint stage has started and the resident will be told"
    return message


@router.post("/items/{item_id}/assign")
async def assign(item_id: RowId, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        assignee = _form_text(form, "assignee", 120)
        staff = {u.username for u in list_users(session) if u.active}
        if assignee and assignee not in staff:
            raise FieldError("assignee", "Select a person from the list")
        cases.assign(session, item, actor=user.username, assignee=assignee or None)  # type: ignore[arg-type]
        notifications.case_assigned(
            session, item, assignee=assignee or None, actor=user.username, now=runtime.clock.now()
        )
        return f"Assigned to {assignee}." if assignee else "No longer assigned to anyone."

    return await _act(request, runtime, item_id, user, action)


@router.post("/items/{item_id}/escalate")
async def escalate(item_id: RowId, request: Request, runtime: RuntimeDep, user: ManagerUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        stage = cases.escalate(runtime, session, item, actor=user.username, reason=_form_text(form, "reason") or None)
        try:
            name = runtime.policy.stage(stage).name
        except Exception:
            name = label(stage)
        return f"Escalated to {name}. New deadlines have been set and the resident will be told."

    return await _act(request, runtime, item_id, user, action)


@router.post("/items/{item_id}/extend")
async def extend(item_id: RowId, request: Request, runtime: RuntimeDep, user: ManagerUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        raw_date = _form_text(form, "until", 20)
        try:
            until_day = date.fromisoformat(raw_date)
        except ValueError:
            raise FieldError("until", "Enter the new date, for example 2026-12-24") from None
        reason = _required_text(
            form,
            "reason",
            field="extend-reason",
            missing="Enter the reason for the extension: the resident will be told it",
        )
        until = datetime.combine(until_day, time(17, 0), tzinfo=UK)
        letter = cases.extend(runtime, session, item, actor=user.username, until=until, reason=reason)
        told = {
            "pending": "the resident is being sent a letter with the new date and the reason",
            "needs_callback": "the resident cannot be written to: phone them with the new date and the reason",
        }.get(letter.status, f"no letter can be sent ({letter.last_error}): tell the resident another way")
        return f"Response date extended to {until_day:%-d %B %Y}; {told}."

    return await _act(request, runtime, item_id, user, action)


@router.post("/items/{item_id}/response")
async def record_response(item_id: RowId, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        summary = _required_text(
            form, "summary", field="summary", missing="Enter a summary of the response you sent"
        )
        cases.record_response(runtime, session, item, actor=user.username, summary=summary)
        return "Response recorded; the deadline it met is marked as met."

    return await _act(request, runtime, item_id, user, action)


@router.post("/items/{item_id}/close")
async def close(item_id: RowId, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        root = session.get(Item, item.case_root_id) or item
        require_may_close(user.role, root.type, runtime.settings.triage_may_close)
        outcome = _form_text(form, "outcome", 40)
        if outcome not in OUTCOMES:
            raise FieldError("outcome", "Select the outcome")
        cases.close(runtime, session, item, actor=user.username, outcome=outcome, remedy=_form_text(form, "remedy") or None)
        return f"Case closed: {OUTCOMES[outcome].lower()}."

    return await _act(request, runtime, item_id, user, action)


@router.post("/items/{item_id}/reopen")
async def reopen(item_id: RowId, request: Request, runtime: RuntimeDep, user: ManagerUser) -> Response:
    def action(session: Session, item: Item, form: Any) -> str:
        reason = _required_text(
            form, "reason", field="reopen-reason", missing="Enter why the case is being reopened"
        )
        cases.reopen(runtime, session, item, actor=user.username, reason=reason)
        return "Case reopened; its deadlines have been recomputed."

    return await _act(request, runtime, item_id, user, action)

