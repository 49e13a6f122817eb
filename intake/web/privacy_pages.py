"""Admin pages for residents' data rights: the request list, a person's data, exports, erasure,
restriction, legal holds, the access trail and the retention schedule (services in intake/privacy)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake.api.deps import RuntimeDep
from intake.errors import InvalidMessage
from intake.formatting import UK
from intake.privacy import access, retention, service
from intake.privacy.requests import KINDS, list_requests
from intake.privacy.subjects import SubjectQuery
from intake.runtime import Runtime
from intake.web.auth import StaffUser
from intake.web.deps import AdminUser
from intake.web.flash import set_flash
from intake.web.pages import PageNotFound
from intake.web.templating import render
from models import Item

router = APIRouter()


def privacy_clock(runtime: RuntimeDep) -> datetime:
    """The moment the privacy pages count from: the runtime's clock (tests may override this
    dependency to fix the date)."""
    return runtime.clock.now()


Clock = Annotated[datetime, Depends(privacy_clock)]


def _text(source: Any, name: str, limit: int = 500) -> str:
    value = source.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _query(source: Any) -> SubjectQuery:
    contact = _text(source, "contact", 12)
    if contact and not contact.isdigit():
        raise InvalidMessage("a contact id is a number")
    return SubjectQuery(email=_text(source, "email", 320) or None, phone=_text(source, "phone", 32) or None,
                        contact_id=int(contact) if contact else None)


def _ids(values: list[Any]) -> list[int]:
    return [int(v) for v in values if isinstance(v, str) and v.isdigit()]


def _done(request: Request, target: str, message: str) -> RedirectResponse:
    response = RedirectResponse(target, status_code=303)
    set_flash(request, response, message)
    return response


def _overview(request: Request, runtime: Runtime, user: StaffUser, now: datetime, *,
              errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    with runtime.database.session() as session:
        rows = list_requests(session, now=now)
        session.expunge_all()
    return render(request, "privacy.html", {"page_title": "Privacy requests", "nav": "privacy", "rows": rows,
                                            "kinds": KINDS, "errors": errors or {}}, user=user,
                  status_code=status_code)


@router.get("/privacy", response_class=HTMLResponse)
def overview(request: Request, runtime: RuntimeDep, user: AdminUser, now: Clock) -> HTMLResponse:
    return _overview(request, runtime, user, now)


@router.post("/privacy/requests")
async def log_request(request: Request, runtime: RuntimeDep, user: AdminUser, now: Clock) -> Response:
    form = await request.form()
    received = _text(form, "received", 10)
    try:
        received_at = datetime.combine(date.fromisoformat(received), time(9), tzinfo=UK) if received else None
        request_id = service.log_request(runtime, _query(form), kind=_text(form, "kind", 16), actor=user.username,
                                         now=now, received_at=received_at)
    except ValueError:
        return _overview(request, runtime, user, now, errors={"received": "Enter the date, for example 2026-11-03"},
                         status_code=400)
    except InvalidMessage as refusal:
        return _overview(request, runtime, user, now, errors={"email": str(refusal)}, status_code=400)
    return _done(request, "/staff/privacy", f"Request {request_id} logged.")


def _person_page(request: Request, runtime: Runtime, user: StaffUser, query: SubjectQuery, *,
                 errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    match = service.look_up(runtime, query)
    with runtime.database.session() as session:
        listed = match.item_ids + [c.item_id for c in match.candidates]
        items = {item.id: item for item in session.query(Item).filter(Item.id.in_(listed))} if listed else {}
        trail = access.trail_for_items(session, match.item_ids)
        session.expunge_all()
    return render(request, "privacy_person.html", {
        "page_title": "A person's data", "nav": "privacy", "query": query, "match": match, "items": items,
        "trail": trail, "errors": errors or {},
    }, user=user, status_code=status_code)


@router.get("/privacy/person", response_class=HTMLResponse)
def person(request: Request, runtime: RuntimeDep, user: AdminUser, now: Clock) -> HTMLResponse:
    try:
        query = _query(request.query_params)
    except InvalidMessage as refusal:
        return _overview(request, runtime, user, now, errors={"email": str(refusal)}, status_code=400)
    return _person_page(request, runtime, user, query)


@router.post("/privacy/act")
async def act(request: Request, runtime: RuntimeDep, user: AdminUser, now: Clock) -> Response:
    """One form, four buttons: export, erase, restrict, lift the restriction."""
    form = await request.form()
    try:
        query = _query(form)
    except InvalidMessage as refusal:
        return _overview(request, runtime, user, now, errors={"email": str(refusal)}, status_code=400)
    confirm = _ids(form.getlist("include"))
    action = _text(form, "action", 16)
    try:
        if action == "export":
            result = service.export_subject(runtime, query, actor=user.username, now=now, confirm=confirm)
            return Response(result.content, media_type="application/zip", headers={
                "Content-Disposition": f'attachment; filename="subject-access-{result.request_id}.zip"'})
        if action == "erase":
            erased = service.erase_subject(runtime, query, actor=user.username, now=now, confirm=confirm,
                                           reason=_text(form, "reason", 2000), override=_text(form, "override", 2000))
            if erased.refused:
                return _person_page(request, runtime, user, query, status_code=409, errors={
                    "override": "Erasure refused: " + "; ".join(erased.refused)
                                + ". An admin may erase anyway by giving the reason for overriding."})
            message = f"Erased (request {erased.request_id}): {erased.counts['items']} items."
            if erased.retrain_needed:
                message += " A retrain is needed: a model learned from their corrections."
            return _done(request, "/staff/privacy", message)
        if action in ("restrict", "lift"):
            request_id, changed = service.restrict_subject(runtime, query, actor=user.username, now=now,
                                                           confirm=confirm, lift=action == "lift")
            verb = "Restricted" if action == "restrict" else "Restriction lifted on"
            return _done(request, "/staff/privacy", f"{verb} {changed} items (request {request_id}).")
    except InvalidMessage as refusal:
        return _person_page(request, runtime, user, query, errors={"reason": str(refusal)}, status_code=400)
    return _person_page(request, runtime, user, query, errors={"action": "Choose what to do"}, status_code=400)


@router.get("/privacy/items/{item_id}", response_class=HTMLResponse)
def item_trail(item_id: int, request: Request, runtime: RuntimeDep, user: AdminUser) -> HTMLResponse:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise PageNotFound(f"There is no item {item_id}.")
        trail = access.trail_for_items(session, [item_id])
        session.expunge_all()
    return render(request, "privacy_item.html", {"page_title": f"Access to {item.reference or item.id}",
                                                 "nav": "privacy", "item": item, "trail": trail}, user=user)


@router.post("/privacy/items/{item_id}/hold")
async def hold(item_id: int, request: Request, runtime: RuntimeDep, user: AdminUser) -> Response:
    form = await request.form()
    release = _text(form, "release", 5) == "yes"
    try:
        service.set_legal_hold(runtime, item_id, actor=user.username,
                               reason=None if release else _text(form, "reason", 2000))
    except InvalidMessage as refusal:
        return _done(request, f"/staff/privacy/items/{item_id}", str(refusal)[0].upper() + str(refusal)[1:] + ".")
    return _done(request, f"/staff/privacy/items/{item_id}", "Legal hold released." if release else "Legal hold set.")


@router.get("/privacy/retention", response_class=HTMLResponse)
def retention_page(request: Request, runtime: RuntimeDep, user: AdminUser, now: Clock) -> HTMLResponse:
    result = retention.run(runtime, now=now, apply=False)
    return render(request, "privacy_retention.html", {
        "page_title": "Retention", "nav": "privacy", "result": result, "rules": runtime.settings.privacy.retention,
    }, user=user)


@router.post("/privacy/retention")
async def apply_retention(request: Request, runtime: RuntimeDep, user: AdminUser, now: Clock) -> Response:
    result = retention.run(runtime, now=now, apply=True, actor=user.username)
    return _done(request, "/staff/privacy/retention",
                 f"Anonymised {len(result.expired)} cases ({result.items} items) past their retention period.")
