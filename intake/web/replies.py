"""The reply page (write to the resident from a template, then send) and each officer's email alerts.

Thin handlers: the work is in `intake/replies.py`, `intake/reply_templates.py` and
`intake/staff_alerts.py`. The reply form carries a one-time key made when the page was shown, so a
double click or a resent form makes one reply.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake import deadlines, replies, reply_templates, staff_alerts
from intake.api.deps import RuntimeDep
from intake.replies import ReplyRefused
from intake.runtime import Runtime
from intake.users import list_users
from intake.web.auth import StaffUser
from intake.web.deps import RowId, TriageUser
from intake.web.flash import set_flash
from intake.web.pages import PageNotFound
from intake.web.queue_walk import MAX_FROM_LENGTH, came_from, next_case_in
from intake.web.staff_items import _check_visible, _form_text, _record_item_view
from intake.web.templating import render
from models import Acknowledgement, Item
from triage_rules.acknowledgement_wording import sms_segments

router = APIRouter()

# Square-bracketed prompts left from a template ("[Write your reply here.]"): never sent by mistake.
UNFILLED = re.compile(r"\[[^\[\]\n]{1,80}\]")
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _values(runtime: Runtime, root: Item, officer: str) -> dict[str, str]:
    name = " ".join((root.sender_name or "").split())
    usable = name and "@" not in name and not any(ch.isdigit() for ch in name) and len(name) <= 60
    return {
        "greeting": f"Dear {name}" if usable else "Hello",
        "reference": root.reference or "",
        "landlord": runtime.policy.landlord_name,
        "landlord_phone": runtime.policy.contact.phone,
        "officer": officer,
    }


def reply_page(
    request: Request,
    runtime: Runtime,
    item_id: int,
    user: StaffUser,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    query = request.query_params
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise PageNotFound(f"There is no item {item_id}.")
        root = session.get(Item, item.case_root_id) or item
        found = replies.recipients(runtime, session, root)
        templates = reply_templates.all_templates(session, active_only=True)
        letters = replies.conversation(session, root)
        officer = next(
            (u.full_name for u in list_users(session) if u.username == user.username and u.full_name), None
        )
        waiting = bool({"respond", "holding_response"} & deadlines.open_kinds(root))
        session.expunge(root)
    preferred = (
        "sms" if (root.details or {}).get("ack_channel") == "sms" or root.channel == "sms" else "email"
    )
    channels = [c for c in ("email", "sms") if (found.email if c == "email" else found.sms_refusal is None)]
    if form is None:
        channel = (
            query.get("channel")
            if query.get("channel") in ("email", "sms")
            else (preferred if preferred in channels else (channels[0] if channels else "email"))
        )
        chosen = next((t for t in templates if t.key == query.get("template") and t.channel == channel), None)
        chosen = chosen or next((t for t in templates if t.channel == channel), None)
        values = _values(runtime, root, officer or user.username)
        form = {
            "channel": channel,
            "template": chosen.key if chosen else "",
            "subject": reply_templates.fill(chosen.subject or "", values) if chosen else "",
            "body": reply_templates.fill(chosen.body, values) if chosen else "",
            "stage_response": False,
            "key": secrets.token_urlsafe(24),
            "from": came_from(query.get("from")) or "",
        }
    return render(
        request,
        "reply.html",
        {
            "page_title": f"Reply on {root.reference}",
            "nav": "queues",
            "root": root,
            "form": form,
            "errors": errors or {},
            "templates": templates,
            "recipients": found,
            "channels": channels,
            "letters": letters,
            "waiting_for_response": waiting,
            "sms_parts": sms_segments(" ".join(form["body"].split())) if form["channel"] == "sms" else None,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/items/{item_id}/reply", response_class=HTMLResponse)
def show_reply(item_id: RowId, request: Request, runtime: RuntimeDep, user: TriageUser) -> HTMLResponse:
    _record_item_view(runtime, item_id, user)
    return reply_page(request, runtime, item_id, user)


@router.post("/items/{item_id}/reply")
async def send_reply(item_id: RowId, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    posted = await request.form()
    form: dict[str, Any] = {
        "channel": _form_text(posted, "channel", 10),
        "template": _form_text(posted, "template", 64),
        "subject": _form_text(posted, "subject", 300),
        "body": _form_text(posted, "body", replies.MAX_BODY + 1),
        "stage_response": _form_text(posted, "stage_response", 5) == "yes",
        "key": _form_text(posted, "key", 80),
        "from": came_from(_form_text(posted, "from", MAX_FROM_LENGTH)) or "",
    }
    then_next = _form_text(posted, "then", 10) == "next" and bool(form["from"])
    errors: dict[str, str] = {}
    if not KEY_PATTERN.fullmatch(form["key"]):
        errors["reply-body"] = "This form has expired: open the reply form again"
    elif unfilled := UNFILLED.findall(form["body"]):
        errors["reply-body"] = f"Fill in or remove {unfilled[0]} before sending"
    reply_id = letter_id = root_id = 0
    if not errors:
        try:
            with runtime.database.session() as session:
                _check_visible(session, item_id, user)
                item = session.get(Item, item_id)
                assert item is not None
                reply = replies.plan_reply(
                    runtime,
                    session,
                    item,
                    key=form["key"],
                    author=user.username,
                    channel=form["channel"],
                    subject=form["subject"],
                    body=form["body"],
                    stage_response=form["stage_response"],
                    template_key=form["template"] or None,
                )
                reply_id, letter_id, root_id = reply.id, reply.acknowledgement_id or 0, reply.item_id
        except ReplyRefused as refusal:
            errors[refusal.field] = str(refusal)
    if errors:
        return reply_page(request, runtime, item_id, user, form=form, errors=errors, status_code=400)
    # In-process jobs have sent it by now; with workers it goes within seconds (and the sweep records
    # the stage response then).
    replies.record_stage_responses(runtime, reply_ids=[reply_id])
    with runtime.database.session() as session:
        letter = session.get(Acknowledgement, letter_id)
        status = letter.status if letter else "pending"
        recipient = letter.recipient if letter else ""
        following = (
            next_case_in(
                session, form["from"], current_id=root_id, now=runtime.clock.now(), username=user.username
            )
            if then_next
            else None
        )
    how = "text" if form["channel"] == "sms" else "email"
    message = {
        "sent": f"Reply sent by {how} to {recipient}",
        "delivered": f"Reply sent by {how} to {recipient}",
        "pending": f"Reply queued to go by {how} to {recipient}",
        "retry": f"The {how} provider did not take the reply yet: it will be tried again",
        "unknown": "The reply may not have gone: check with the provider before sending it again",
    }.get(status, f"The reply could not be sent ({status}): see What we sent on the case")
    if form["stage_response"]:
        message += (
            ". It is recorded as the stage response"
            if status in replies.SENT
            else (". It will be recorded as the stage response once it has gone")
        )
    query = f"?{urlencode({'from': form['from']})}" if form["from"] else ""
    target = f"/staff/items/{item_id}{query}"
    if then_next:
        target = f"/staff/items/{following}{query}" if following else form["from"]
    response = RedirectResponse(target, status_code=303)
    set_flash(request, response, message + ".")
    return response


# --- each officer's email alerts -------------------------------------------------------------


@router.get("/alerts", response_class=HTMLResponse)
def show_alerts(request: Request, runtime: RuntimeDep, user: TriageUser) -> HTMLResponse:
    with runtime.database.session() as session:
        setting = staff_alerts.setting_for(session, user.username)
        form = {
            "email": setting.email if setting else "",
            "urgent_arrivals": bool(setting and setting.urgent_arrivals),
            "deadlines": bool(setting and setting.deadlines),
        }
    return render(
        request,
        "alerts.html",
        {"page_title": "Email alerts", "nav": "notifications", "form": form},
        user=user,
    )


@router.post("/alerts")
async def save_alerts(request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    posted = await request.form()
    form: dict[str, Any] = {
        "email": _form_text(posted, "email", 320),
        "urgent_arrivals": _form_text(posted, "urgent_arrivals", 5) == "yes",
        "deadlines": _form_text(posted, "deadlines", 5) == "yes",
    }
    try:
        with runtime.database.session() as session:
            staff_alerts.save_setting(
                session,
                username=user.username,
                email=form["email"],
                urgent_arrivals=form["urgent_arrivals"],
                deadlines_due=form["deadlines"],
                now=runtime.clock.now(),
            )
    except ValueError as refusal:
        return render(
            request,
            "alerts.html",
            {
                "page_title": "Email alerts",
                "nav": "notifications",
                "form": form,
                "errors": {"email": str(refusal)},
            },
            user=user,
            status_code=400,
        )
    response = RedirectResponse("/staff/alerts", status_code=303)
    set_flash(request, response, "Your email alerts are saved.")
    return response
