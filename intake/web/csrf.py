"""CSRF protection: a token per browser session, checked on every POST.

The browser holds a random session id in an HttpOnly cookie; the token in each form is an HMAC of
that id under the secret key. A page on another site can neither read the cookie nor compute the
token, so a forged form post fails. Signing in starts a fresh id (no session fixation).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from fastapi import Request, Response

from intake import audit
from intake.runtime import Runtime
from intake.web.auth import cookie_is_secure

log = logging.getLogger(__name__)

CSRF_COOKIE = "intake_csrf"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class CsrfRefused(Exception):
    """The form's token is missing or does not match this browser's session."""


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def _token_for(runtime: Runtime, session_id: str) -> str:
    key = runtime.settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def _session_id(request: Request) -> str:
    """This browser's id: from the cookie, or a new one that `persist` will set on the response."""
    pending = getattr(request.state, "csrf_session_id", None)
    if pending:
        return str(pending)
    existing = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(existing) <= 100:
        return existing
    request.state.csrf_session_id = secrets.token_urlsafe(32)
    return str(request.state.csrf_session_id)


def csrf_token(request: Request) -> str:
    return _token_for(_runtime(request), _session_id(request))


def rotate(request: Request) -> None:
    """A fresh session id, e.g. at sign-in; `persist` writes it to the response."""
    request.state.csrf_session_id = secrets.token_urlsafe(32)


def persist(request: Request, response: Response) -> None:
    new_id = getattr(request.state, "csrf_session_id", None)
    if new_id:
        response.set_cookie(
            CSRF_COOKIE,
            new_id,
            httponly=True,
            secure=cookie_is_secure(_runtime(request).settings),
            samesite="lax",
            path="/",
        )


async def verify_csrf(request: Request) -> None:
    """Router dependency: every unsafe request must carry this session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    expected = _token_for(_runtime(request), cookie) if cookie else ""
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        refuse(request, "csrf token missing or wrong")


def refuse(request: Request, reason: str) -> None:
    log.warning("refused %s %s: %s", request.method, request.url.path, reason)
    with _runtime(request).database.session() as session:
        audit.record(
            session,
            actor="anonymous",
            action="request_refused",
            path=request.url.path,
            reason=reason,
        )
    raise CsrfRefused(reason)
