"""Internal notes on a case and each officer's notifications page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from intake import notifications
from intake.api.deps import RuntimeDep
from intake.case_notes import add_note
from intake.errors import InvalidMessage
from intake.web.deps import RowId, TriageUser
from intake.web.flash import set_flash
from intake.web.pages import PageNotFound
from intake.web.staff_items import item_page
from intake.web.templating import render
from models import Item

router = APIRouter()


@router.post("/items/{item_id}/notes")
async def post_note(item_id: RowId, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    form = await request.form()
    body = form.get("note")
    text = body if isinstance(body, str) else ""
    try:
        with runtime.database.session() as session:
            item = session.get(Item, item_id)
            if item is None:
                raise PageNotFound(f"no item {item_id}")
            add_note(session, item, author=user.username, body=text, now=runtime.clock.now())
            root_id = item.case_root_id
    except InvalidMessage as refusal:
        message = str(refusal)
        return item_page(request, runtime, item_id, user, errors={"note": message[0].upper() + message[1:]}, status_code=400)
    response = RedirectResponse(f"/staff/items/{root_id}#notes", status_code=303)
    set_flash(request, response, "Note added.")
    return response


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, runtime: RuntimeDep, user: TriageUser) -> HTMLResponse:
    now = runtime.clock.now()
    with runtime.database.session() as session:
        alerts = notifications.live_alerts(session, user.username, now=now)
        stored = notifications.recent(session, user.username)
        session.expunge_all()
    return render(
        request,
        "notifications.html",
        {"page_title": "Notifications", "nav": "notifications", "alerts": alerts, "stored": stored, "now": now},
        user=user,
    )


@router.get("/notifications/count")
def notification_count(runtime: RuntimeDep, user: TriageUser) -> JSONResponse:
    """The number on the header's Notifications link, fetched by the page (not counted in every render)."""
    with runtime.database.session() as session:
        count = notifications.badge_count(session, user.username, now=runtime.clock.now())
    return JSONResponse({"count": count}, headers={"Cache-Control": "no-store"})


@router.post("/notifications/read")
def mark_read(request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    with runtime.database.session() as session:
        count = notifications.mark_all_read(session, user.username, now=runtime.clock.now())
    response = RedirectResponse("/staff/notifications", status_code=303)
    set_flash(request, response, f"{count} marked as read." if count else "Nothing new to mark as read.")
    return response
