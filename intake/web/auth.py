"""Staff sign-in sessions and role checks for the workspace.

The session is a signed cookie (itsdangerous) naming the user and a fingerprint of their password
hash, so changing a password or deactivating a user ends every session at once. The user and role
are read from the database on each request: the cookie is never trusted for the role.

`require_role("manager")` is the one dependency every staff page uses; it returns a `StaffUser`,
sends a signed-out browser to /staff/login and refuses (403, audited) a user whose role is too low.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from intake import audit
from intake.runtime import Runtime
from intake.settings import Settings

log = logging.getLogger(__name__)

ROLES = ("triage", "manager", "admin")  # each role can do everything the ones before it can
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
SESSION_COOKIE = "intake_staff"
SESSION_MAX_AGE_SECONDS = 10 * 3600  # one working day; then sign in again
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: str

    def can(self, minimum_role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[minimum_role]


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in page (handled in intake/web/setup.py)."""

    def __init__(self, next_url: str) -> None:
        super().__init__("sign in to use the staff workspace")
        self.next_url = next_url


class RoleRefused(Exception):
    """Signed in, but the role is too low for this page (rendered as a 403 page)."""

    def __init__(self, user: StaffUser, minimum_role: str) -> None:
        super().__init__(f"This page needs the {minimum_role} role. You are signed in as {user.role}.")
        self.user = user
        self.minimum_role = minimum_role


def cookie_is_secure(settings: Settings) -> bool:
    """Secure cookies everywhere except a plain-http local address (development and tests)."""
    parts = urlsplit(settings.public_base_url)
    return not (parts.scheme == "http" and (parts.hostname or "") in LOCAL_HOSTS)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="intake-staff-session")


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def start_session(response: Response, settings: Settings, *, username: str, password_hash: str) -> None:
    value = _serializer(settings).dumps({"u": username, "p": password_fingerprint(password_hash)})
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=SESSION_MAX_AGE_SECONDS,
        httponly=True,
        secure=cookie_is_secure(settings),
        samesite="lax",
        path="/",
    )


def end_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=cookie_is_secure(settings), samesite="lax"
    )


def session_claims(request: Request, settings: Settings) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        claims = _serializer(settings).loads(raw, max_age=SESSION_MAX_AGE_SECONDS)
    except BadSignature:
        return None
    return claims if isinstance(claims, dict) else None


def current_user(request: Request) -> StaffUser | None:
    """The signed-in user, or None. Cached on the request so one page reads it once."""
    if hasattr(request.state, "staff_user"):
        return request.state.staff_user  # type: ignore[no-any-return]
    runtime: Runtime = request.app.state.runtime
    user = _load_user(runtime, session_claims(request, runtime.settings))
    request.state.staff_user = user
    return user


def _load_user(runtime: Runtime, claims: dict[str, Any] | None) -> StaffUser | None:
    if not claims:
        return None
    from intake.users import active_user

    with runtime.database.session() as session:
        found = active_user(session, str(claims.get("u", "")))
        if found is None or password_fingerprint(found.password_hash) != claims.get("p"):
            return None
        return StaffUser(username=found.username, role=found.role)


def require_role(minimum_role: str) -> Callable[[Request], StaffUser]:
    """A FastAPI dependency: the signed-in `StaffUser` with at least `minimum_role`."""
    if minimum_role not in ROLE_RANK:
        raise ValueError(f"unknown role {minimum_role!r}; expected one of {', '.join(ROLES)}")

    def dependency(request: Request) -> StaffUser:
        user = current_user(request)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target)
        if not user.can(minimum_role):
            refuse_role(request, user, minimum_role)
        return user

    dependency.__name__ = f"require_{minimum_role}"
    return dependency


def refuse_role(request: Request, user: StaffUser, minimum_role: str) -> None:
    runtime: Runtime = request.app.state.runtime
    log.warning(
        "refused %s %s: role %s below %s", request.method, request.url.path, user.role, minimum_role
    )
    with runtime.database.session() as session:
        audit.record(
            session,
            actor=user.username,
            action="access_refused",
            path=request.url.path,
            method=request.method,
            role=user.role,
            needed=minimum_role,
        )
    raise RoleRefused(user, minimum_role)


def login_url(next_url: str) -> str:
    return "/staff/login?next=" + quote(next_url, safe="/")
