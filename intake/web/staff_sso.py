"""The single sign-on routes: "Sign in with your organisation account" (intake/web/oidc.py does the work).

Both are GETs (a browser is redirected here by the identity provider), so the CSRF check that guards
every POST does not apply; the flow's state, kept in a signed cookie, does that job instead.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake.api.deps import RuntimeDep
from intake.errors import NotAuthorised
from intake.users import single_sign_on_user
from intake.web import csrf, oidc
from intake.web.auth import cookie_is_secure, start_session
from intake.web.pages import PageNotFound
from intake.web.staff_session import safe_next
from intake.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter()


def _refused(request: Request, message: str, status_code: int) -> HTMLResponse:
    page = render(
        request,
        "login.html",
        {
            "page_title": "Sign in",
            "next": "",
            "username": "",
            "errors": {"sso": message[0].upper() + message[1:]},
            "staff_page": True,
            "oidc_button": oidc.button_text(request.app.state.runtime),
        },
        status_code=status_code,
    )
    page.delete_cookie(oidc.FLOW_COOKIE, path="/staff/login/oidc")
    return page


@router.get("/login/oidc", include_in_schema=False)
def start_single_sign_on(
    request: Request, runtime: RuntimeDep, next: Annotated[str, Query(max_length=500)] = ""  # noqa: A002
) -> Response:
    if not runtime.settings.oidc.enabled:
        raise PageNotFound("single sign-on is not set up here: sign in with your username and password")
    try:
        url, flow = oidc.start(runtime, next_url=safe_next(next))
    except oidc.SingleSignOnFailed as failure:
        return _refused(request, str(failure), 502)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        oidc.FLOW_COOKIE,
        flow,
        max_age=oidc.FLOW_SECONDS,
        httponly=True,
        secure=cookie_is_secure(runtime.settings),
        samesite="lax",  # sent on the provider's top-level redirect back to us
        path="/staff/login/oidc",
    )
    return response


@router.get("/login/oidc/callback", include_in_schema=False)
def finish_single_sign_on(
    request: Request,
    runtime: RuntimeDep,
    code: Annotated[str, Query(max_length=4000)] = "",
    state: Annotated[str, Query(max_length=500)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    if not runtime.settings.oidc.enabled:
        raise PageNotFound("single sign-on is not set up here")
    if error or not code or not state:
        # e.g. access_denied: the person cancelled, or the provider does not let them use this app
        log.warning("single sign-on refused by the provider: %s", error[:40] or "no code")
        return _refused(request, "the sign-in was cancelled or refused at your organisation's sign-in page", 400)
    try:
        identity = oidc.finish(runtime, cookie=request.cookies.get(oidc.FLOW_COOKIE), state=state, code=code)
        with runtime.database.session() as session:
            user_id = single_sign_on_user(session, identity.email, now=runtime.clock.now()).id
    except oidc.SingleSignOnFailed as failure:
        return _refused(request, str(failure), 400)
    except NotAuthorised as refusal:
        log.warning("single sign-on: no active account for the identity")
        return _refused(request, str(refusal), 403)
    response = RedirectResponse(safe_next(identity.next_url), status_code=303)
    response.delete_cookie(oidc.FLOW_COOKIE, path="/staff/login/oidc")
    start_session(response, runtime, user_id)
    csrf.rotate(request)  # a new CSRF session with the new sign-in, as for a password
    csrf.persist(request, response)
    return response
