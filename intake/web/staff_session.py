"""Sign in and out of the staff workspace, and change your own password.

Failed sign-ins are throttled per client address (on top of the per-account lock in intake/users.py),
counted in the audit log like the contact form's rate limit so every API process shares the count.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from intake import audit
from intake.api.deps import RuntimeDep
from intake.errors import InvalidMessage
from intake.runtime import Runtime
from intake.users import REFUSED, SignInRefused, change_own_password, has_active_users, sign_in
from intake.web import csrf, oidc, rate_limit
from intake.web.auth import current_user, end_session, start_session
from intake.web.deps import TriageUser
from intake.web.flash import set_flash
from intake.web.templating import render
from models import AuditEntry

log = logging.getLogger(__name__)
router = APIRouter()
DEFAULT_PAGE = "/staff/queues"


def safe_next(target: str | None) -> str:
    """Only a path inside the workspace: never another site (open redirect)."""
    if (
        not target
        or not target.startswith("/staff")
        or target.startswith("//")
        or any(ch in target for ch in "\\\r\n")
        or target.startswith("/staff/login")
    ):
        return DEFAULT_PAGE
    return target


@router.get("/", include_in_schema=False)
def workspace_home() -> RedirectResponse:
    return RedirectResponse(DEFAULT_PAGE, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, runtime: RuntimeDep, next: Annotated[str, Query(max_length=500)] = ""  # noqa: A002
) -> Response:
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request,
        "login.html",
        {
            "page_title": "Sign in",
            "next": safe_next(next),
            "username": "",
            "staff_page": True,
            "no_users": not _anyone_can_sign_in(runtime),
            "oidc_button": oidc.button_text(runtime),
        },
    )


def _anyone_can_sign_in(runtime: Runtime) -> bool:
    with runtime.database.session() as session:
        return has_active_users(session)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=120)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "",  # noqa: A002
) -> Response:
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"
    status_code = 400
    if not errors:
        address_key = rate_limit.client_key(runtime.settings, client_address(request))
        if _too_many_failures(runtime, address_key):
            log.warning("sign-in throttled for a client address")
            errors["username"] = REFUSED[0].upper() + REFUSED[1:]
            status_code = 429
        else:
            try:
                with runtime.database.session() as session:
                    user = sign_in(session, username=username, password=password)
                    user_id = user.id
            except SignInRefused as refusal:
                log.warning("sign-in refused")
                _count_failure(runtime, address_key)
                errors["username"] = str(refusal)[0].upper() + str(refusal)[1:]
                status_code = 401
    if not errors:
        response = RedirectResponse(safe_next(next), status_code=303)
        start_session(response, runtime, user_id)
        csrf.rotate(request)  # a new CSRF session with the new sign-in
        csrf.persist(request, response)
        return response
    page = render(
        request,
        "login.html",
        {
            "page_title": "Sign in",
            "next": safe_next(next),
            "username": username[:120],
            "errors": errors,
            "staff_page": True,
            "oidc_button": oidc.button_text(runtime),
        },
        status_code=status_code,
    )
    if status_code == 429:
        page.headers["Retry-After"] = str(runtime.settings.sign_in_failure_window_seconds)
    return page


SIGN_IN_FAILURE = "sign_in_failed_from_address"


def client_address(request: Request) -> str | None:
    # Behind a trusted proxy the app's ProxyHeadersMiddleware has already put the real client here.
    return request.client.host if request.client else None


def _count_failure(runtime: Runtime, address_key: str) -> None:
    with runtime.database.session() as session:
        audit.record(session, actor=address_key, action=SIGN_IN_FAILURE)


def _too_many_failures(runtime: Runtime, address_key: str) -> bool:
    settings = runtime.settings
    since = runtime.clock.now() - timedelta(seconds=settings.sign_in_failure_window_seconds)
    with runtime.database.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.actor == address_key, AuditEntry.action == SIGN_IN_FAILURE, AuditEntry.at > since)
        )
    return (count or 0) >= settings.sign_in_failures_per_address


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep) -> RedirectResponse:
    user = current_user(request)
    if user is not None:
        from intake import audit

        with runtime.database.session() as session:
            audit.record(session, actor=user.username, action="signed_out")
    response = RedirectResponse("/staff/login", status_code=303)
    end_session(request, response, runtime)
    return response


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, user: TriageUser) -> Response:
    return render(request, "password.html", {"page_title": "Change your password", "nav": "password", "errors": {}}, user=user)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    runtime: RuntimeDep,
    user: TriageUser,
    current: Annotated[str, Form(max_length=1000)] = "",
    new: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Change your own password. Every session of yours ends, on every device; this one starts afresh."""
    errors: dict[str, str] = {}
    if new != confirm:
        errors["confirm"] = "The new password and its confirmation are not the same"
    else:
        try:
            with runtime.database.session() as session:
                changed = change_own_password(session, username=user.username, current=current, new=new)
                user_id = changed.id
        except InvalidMessage as refusal:
            text = str(refusal)
            errors["current" if "current" in text else "new"] = text[0].upper() + text[1:]
    if errors:
        return render(
            request, "password.html", {"page_title": "Change your password", "nav": "password", "errors": errors}, user=user,
            status_code=400,
        )
    response = RedirectResponse(DEFAULT_PAGE, status_code=303)
    start_session(response, runtime, user_id)
    set_flash(request, response, "Your password has been changed. You have been signed out everywhere else.")
    return response
