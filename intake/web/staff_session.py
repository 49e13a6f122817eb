"""Sign in and sign out of the staff workspace."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake.api.deps import RuntimeDep
from intake.runtime import Runtime
from intake.users import SignInRefused, has_active_users, sign_in
from intake.web import csrf
from intake.web.auth import current_user, end_session, start_session
from intake.web.templating import render

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
    if not errors:
        try:
            with runtime.database.session() as session:
                user = sign_in(session, username=username, password=password)
                password_hash, signed_in_as = user.password_hash, user.username
        except SignInRefused as refusal:
            log.warning("sign-in refused: %s", refusal)
            errors["username"] = str(refusal)[0].upper() + str(refusal)[1:]
        else:
            response = RedirectResponse(safe_next(next), status_code=303)
            start_session(response, runtime.settings, username=signed_in_as, password_hash=password_hash)
            csrf.rotate(request)  # a new CSRF session with the new sign-in
            csrf.persist(request, response)
            return response
    return render(
        request,
        "login.html",
        {
            "page_title": "Sign in",
            "next": safe_next(next),
            "username": username[:120],
            "errors": errors,
            "staff_page": True,
        },
        status_code=401 if "password" not in errors and "username" in errors else 400,
    )


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep) -> RedirectResponse:
    user = current_user(request)
    if user is not None:
        from intake import audit

        with runtime.database.session() as session:
            audit.record(session, actor=user.username, action="signed_out")
    response = RedirectResponse("/staff/login", status_code=303)
    end_session(response, runtime.settings)
    return response
