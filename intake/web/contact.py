"""GET/POST /contact: the public "Contact us" form, and the confirmation page with the reference.

Order of checks on a post: size (refused unread), CSRF token, per-address rate, honeypot, the
submission token, then the fields. Everything refused is logged without personal data and audited.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from intake import audit
from intake.api.deps import RuntimeDep
from intake.cases import current_deadlines
from intake.errors import PayloadTooLarge
from intake.items import find_item_by_external_id
from intake.runtime import Runtime
from intake.web import rate_limit
from intake.web.contact_form import (
    REPLY_CHANNELS,
    SENDER_ROLES,
    SUBMISSION_TOKEN_PATTERN,
    ContactForm,
    ContactSubmission,
    validate_contact_form,
)
from intake.web.contact_submission import submit_contact_form
from intake.web.csrf import verify_csrf
from intake.web.landlord import landlord_details
from intake.web.templating import render
from intake.web.uploads import ALLOWED_NAMES, ALLOWED_TYPES, Upload

log = logging.getLogger(__name__)


class FormTooLarge(PayloadTooLarge):
    """A contact-form post over the size limit; shown to the resident as a page, not JSON."""


def limit_form_size(request: Request) -> None:
    """Refuse an oversized post before reading it (a browser always says how long its form is)."""
    if request.method != "POST":
        return
    runtime: Runtime = request.app.state.runtime
    limit = runtime.settings.web.max_form_bytes
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > limit:
        reason = "no content length" if not declared.isdigit() else "form too large"
        log.warning("refused POST %s: %s (%s bytes)", request.url.path, reason, declared or "?")
        with runtime.database.session() as session:
            audit.record(
                session,
                actor=rate_limit.client_key(runtime.settings, _client_address(request)),
                action="contact_form_refused",
                reason=reason,
                declared_bytes=int(declared) if declared.isdigit() else None,
            )
        raise FormTooLarge(f"the form is larger than {limit // (1024 * 1024)}MB")


router = APIRouter(tags=["contact form"], dependencies=[Depends(limit_form_size), Depends(verify_csrf)])


def _client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _page(
    request: Request,
    runtime: Runtime,
    form: ContactForm,
    errors: dict[str, str] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    settings = runtime.settings.web
    return render(
        request,
        "contact.html",
        {
            "page_title": "Contact us",
            "form": form,
            "errors": errors or {},
            "sender_roles": SENDER_ROLES,
            "reply_channels": REPLY_CHANNELS,
            "allowed_names": ALLOWED_NAMES,
            "accept": ",".join(ALLOWED_TYPES),
            "max_attachments": settings.max_attachments,
            "max_attachment_mb": settings.max_attachment_bytes // (1024 * 1024),
            "landlord": landlord_details(runtime),
        },
        status_code=status_code,
    )


@router.get("/contact", response_class=HTMLResponse)
def contact_form(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _page(request, runtime, ContactForm(submission_token=secrets.token_urlsafe(24)))


async def _read_form(request: Request) -> ContactForm:
    # As a context manager the form closes each upload's temporary file once it has been read.
    async with request.form() as data:

        def text(name: str) -> str:
            value = data.get(name)
            return value if isinstance(value, str) else ""

        uploads = []
        for part in data.getlist("attachments"):
            if isinstance(part, UploadFile) and part.filename:
                uploads.append(Upload(filename=part.filename, content=await part.read()))
    return ContactForm(
        full_name=text("full_name"),
        reply_by=text("reply_by"),
        email=text("email"),
        mobile=text("mobile"),
        sender_role=text("sender_role"),
        resident_name=text("resident_name"),
        subject=text("subject"),
        message=text("message"),
        submission_token=text("submission_token"),
        website=text("website"),
        uploads=uploads,
    )


@router.post("/contact", response_class=HTMLResponse)
async def submit(request: Request, runtime: RuntimeDep) -> Response:
    key = rate_limit.client_key(runtime.settings, _client_address(request))
    with runtime.database.session() as session:
        rate_limit.record_post(session, key, path=request.url.path)
    with runtime.database.session() as session:
        decision = rate_limit.check_rate(session, runtime.settings, key)
        if not decision.allowed:
            _refuse(session, key, "contact_form_rate_limited", "too many posts from one address")
    if not decision.allowed:
        response = _refusal_page(
            request,
            runtime,
            "You have sent too many forms",
            "You have sent a lot of forms in a short time, so we did not accept this one. "
            "Wait a few minutes and try again.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(min(decision.retry_after_seconds, 600))
        return response

    form = await _read_form(request)
    if form.website.strip():
        with runtime.database.session() as session:
            _refuse(session, key, "contact_form_refused", "honeypot field filled in")
        return _refusal_page(
            request,
            runtime,
            "We could not accept this form",
            "The form was filled in automatically, so we did not accept it. "
            "If you are a person, please use the form again.",
            status_code=400,
        )
    if not SUBMISSION_TOKEN_PATTERN.match(form.submission_token):
        with runtime.database.session() as session:
            _refuse(session, key, "contact_form_refused", "missing or malformed submission token")
        form.submission_token = secrets.token_urlsafe(24)
        return _page(
            request,
            runtime,
            form,
            {"full_name": "Something went wrong with the form. Check your answers and send it again"},
            status_code=400,
        )

    settings = runtime.settings.web
    checked = validate_contact_form(
        form, max_attachments=settings.max_attachments, max_attachment_bytes=settings.max_attachment_bytes
    )
    if not isinstance(checked, ContactSubmission):
        with runtime.database.session() as session:
            audit.record(session, actor=key, action="contact_form_invalid", fields=sorted(checked))
        return _page(request, runtime, form, checked, status_code=400)

    result = submit_contact_form(runtime, checked, actor=key)
    with runtime.database.session() as session:
        audit.record(
            session, actor=key, action="contact_form_accepted", item_id=result.item_id, created=result.created
        )
    return RedirectResponse(f"/contact/received?s={checked.submission_token}", status_code=303)


def _refuse(session, key: str, action: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    log.warning("contact form refused: %s", reason)
    audit.record(session, actor=key, action=action, reason=reason)


def _refusal_page(
    request: Request, runtime: Runtime, title: str, reason: str, *, status_code: int
) -> HTMLResponse:
    return render(
        request,
        "contact_refused.html",
        {"page_title": title, "reason": reason, "landlord": landlord_details(runtime)},
        status_code=status_code,
    )


@router.get("/contact/received", response_class=HTMLResponse)
def received(
    request: Request, runtime: RuntimeDep, s: Annotated[str, Query(max_length=64)] = ""
) -> HTMLResponse:
    """The confirmation: the reference (once processed) and what happens next."""
    item = None
    respond_by = None
    if SUBMISSION_TOKEN_PATTERN.match(s):
        with runtime.database.session() as session:
            item = find_item_by_external_id(session, channel="web_form", external_id=s)
            if item is not None:
                due = [d.due_at for d in current_deadlines(item) if d.kind == "respond" and d.met_at is None]
                respond_by = min(due) if due else None
                session.expunge(item)
    if item is None:
        return _refusal_page(
            request,
            runtime,
            "We cannot find that form",
            "This link does not match a form we have received. If you sent us a form, "
            "check your email or texts for our confirmation.",
            status_code=404,
        )
    return render(
        request,
        "contact_received.html",
        {
            "page_title": "Message received",
            "item": item,
            "reply_by": (item.details.get("form") or {}).get("reply_by", "email"),
            "respond_by": respond_by,
            "landlord": landlord_details(runtime),
        },
    )
