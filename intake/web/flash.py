"""One-time messages after a post-redirect-get ("Correction saved…"), in a short-lived signed cookie."""

from __future__ import annotations

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from intake.runtime import Runtime
from intake.web.auth import cookie_is_secure

FLASH_COOKIE = "intake_flash"
MAX_AGE_SECONDS = 120


def _serializer(runtime: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime.settings.secret_key.get_secret_value(), salt="intake-flash")


def set_flash(request: Request, response: Response, message: str) -> None:
    runtime: Runtime = request.app.state.runtime
    response.set_cookie(
        FLASH_COOKIE,
        _serializer(runtime).dumps(message[:500]),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        secure=cookie_is_secure(runtime.settings),
        samesite="lax",
        path="/staff",
    )


def read_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    runtime: Runtime = request.app.state.runtime
    try:
        message = _serializer(runtime).loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return None
    return message if isinstance(message, str) else None


def clear_flash(request: Request, response: Response) -> None:
    """Shown once: the page that displays it removes it."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/staff")
