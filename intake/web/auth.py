"""Staff sign-in sessions and role checks for the workspace.

The session cookie carries only a random token; the session itself is a row (intake/staff_sessions.py),
so signing out, a password change, deactivation or an admin's "sign out everywhere" ends it on the
server at once. The user and role are read from the database on each request.

`require_role("manager")` is the one dependency every staff page uses; it returns a `StaffUser`,
sends a signed-out browser to /staff/login and refuses (403, audited) a user whose role is too low.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import Request, Response

from intake import audit, staff_sessions
from intake.runtime import Runtime
from intake.settings import Settings

log = logging.getLogger(__name__)

ROLES = ("triage", "manager", "admin")  # each role can do everything the ones before it can
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
SESSION_COOKIE = "intake_staff"
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


def start_session(response: Response, runtime: Runtime, user_id: int) -> None:
    """Open a server-side session for the user and give the browser its token."""
    with runtime.database.session() as session:
        token = staff_sessions.open_session(session, user_id)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(staff_sessions.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=cookie_is_secure(runtime.settings),
        samesite="lax",
        path="/",
    )


def end_session(request: Request, response: Response, runtime: Runtime) -> None:
    """Revoke this browser's session on the server, and drop its cookie."""
    with runtime.database.session() as session:
        staff_sessions.end_session(session, request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=cookie_is_secure(runtime.settings), samesite="lax"
    )


def current_user(request: Request) -> StaffUser | None:
    """The signed-in user, or None. Cached on the request so one page reads it once."""
    if hasattr(request.state, "staff_user"):
        return request.state.staff_user  # type: ignore[no-any-return]
    runtime: Runtime = request.app.state.runtime
    user = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with runtime.database.session() as session:
            found = staff_sessions.session_user(session, token)
            user = StaffUser(username=found.username, role=found.role) if found else None
    request.state.staff_user = user
    return user


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
