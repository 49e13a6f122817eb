"""The Reply templates page (managers): the wording officers start their replies from.

Each save is checked (intake/reply_templates.py: known placeholders only, a subject for email, a
text that fits) and audited; the shipped defaults stay in the package, a saved version replaces one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake import reply_templates
from intake.api.deps import RuntimeDep
from intake.reply_templates import PLACEHOLDERS, Template, TemplateInvalid
from intake.web.auth import StaffUser
from intake.web.deps import ManagerUser
from intake.web.flash import set_flash
from intake.web.pages import PageNotFound
from intake.web.staff_items import _form_text
from intake.web.templating import render

router = APIRouter()
NEW = "new"


def _page(
    request: Request,
    user: StaffUser,
    *,
    form: dict[str, Any],
    is_new: bool,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "reply_template.html",
        {
            "page_title": "Reply template",
            "nav": "reply_templates",
            "form": form,
            "is_new": is_new,
            "placeholders": PLACEHOLDERS,
            "errors": errors or {},
        },
        user=user,
        status_code=status_code,
    )


@router.get("/reply-templates", response_class=HTMLResponse)
def list_templates(request: Request, runtime: RuntimeDep, user: ManagerUser) -> HTMLResponse:
    with runtime.database.session() as session:
        templates = reply_templates.all_templates(session)
    return render(
        request,
        "reply_templates.html",
        {"page_title": "Reply templates", "nav": "reply_templates", "templates": templates},
        user=user,
    )


@router.get("/reply-templates/{key}", response_class=HTMLResponse)
def edit_template(key: str, request: Request, runtime: RuntimeDep, user: ManagerUser) -> HTMLResponse:
    if key == NEW:
        form = {"key": "", "name": "", "channel": "email", "subject": "", "body": "", "active": True}
        return _page(request, user, form=form, is_new=True)
    with runtime.database.session() as session:
        template = reply_templates.find(session, key)
    if template is None:
        raise PageNotFound(f"There is no reply template {key!r}.")
    form = {
        "key": template.key,
        "name": template.name,
        "channel": template.channel,
        "subject": template.subject or "",
        "body": template.body,
        "active": template.active,
    }
    return _page(request, user, form=form, is_new=False)


@router.post("/reply-templates")
async def save_template(request: Request, runtime: RuntimeDep, user: ManagerUser) -> Response:
    posted = await request.form()
    form: dict[str, Any] = {
        "key": _form_text(posted, "key", 64),
        "name": _form_text(posted, "name", 200),
        "channel": _form_text(posted, "channel", 10),
        "subject": _form_text(posted, "subject", 300),
        "body": _form_text(posted, "body", reply_templates.MAX_BODY + 1),
        "active": _form_text(posted, "active", 5) == "yes",
    }
    is_new = _form_text(posted, "is_new", 5) == "yes"
    template = Template(
        key=form["key"],
        name=form["name"],
        channel=form["channel"],
        subject=form["subject"] or None,
        body=form["body"],
        active=form["active"],
    )
    try:
        with runtime.database.session() as session:
            if is_new and reply_templates.find(session, form["key"]) is not None:
                raise TemplateInvalid("key", "A template with this short name already exists: choose another")
            reply_templates.save(session, template, actor=user.username, now=runtime.clock.now())
    except TemplateInvalid as refusal:
        return _page(
            request, user, form=form, is_new=is_new, errors={refusal.field: str(refusal)}, status_code=400
        )
    response = RedirectResponse("/staff/reply-templates", status_code=303)
    set_flash(request, response, f"Template '{template.name}' saved.")
    return response
