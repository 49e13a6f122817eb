"""Admin pages: users, API tokens, model versions (promote, roll back, retrain) and the settings in force."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from intake import audit
from intake.api.deps import RuntimeDep
from intake.api.token_cache import token_cache
from intake.email_mailboxes import settings_rows
from intake.errors import SERVICE_ERRORS, InvalidMessage
from intake.runtime import Runtime
from intake.tokens import READ_ITEMS, WRITE_ITEMS, create_token, revoke_token
from intake.users import (
    ROLES,
    change_role,
    create_user,
    list_users,
    set_active,
    set_email,
    set_password,
    sign_out_everywhere,
)
from intake.web.auth import StaffUser
from intake.web.deps import AdminUser, RowId
from intake.web.flash import set_flash
from intake.web.pages import PageNotFound
from intake.web.templating import render
from models import ApiToken, User

log = logging.getLogger(__name__)
router = APIRouter()


def _text(form: Any, name: str, limit: int = 500) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _done(request: Request, target: str, message: str) -> RedirectResponse:
    response = RedirectResponse(target, status_code=303)
    set_flash(request, response, message)
    return response


# --- users -----------------------------------------------------------------------------------


def _users_page(
    request: Request, runtime: Runtime, user: StaffUser, *, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:
    with runtime.database.session() as session:
        users = list_users(session)
        session.expunge_all()
    return render(
        request,
        "users.html",
        {"page_title": "Users", "nav": "users", "users": users, "roles": ROLES, "errors": errors or {},
         "values": values or {"username": "", "full_name": "", "role": "triage", "email": ""}},
        user=user,
        status_code=status_code,
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, runtime: RuntimeDep, user: AdminUser) -> HTMLResponse:
    return _users_page(request, runtime, user)


@router.post("/users")
async def add_user(request: Request, runtime: RuntimeDep, user: AdminUser) -> Response:
    form = await request.form()
    values = {"username": _text(form, "username", 120), "full_name": _text(form, "full_name", 200),
              "role": _text(form, "role", 20), "email": _text(form, "email", 320)}
    password = form.get("password")
    try:
        with runtime.database.session() as session:
            create_user(session, username=values["username"], password=password if isinstance(password, str) else "",
                        role=values["role"], full_name=values["full_name"], email=values["email"] or None,
                        actor=user.username)
    except InvalidMessage as refusal:
        text = str(refusal)
        field = ("password" if "password" in text else "role" if "role" in text
                 else "email" if "email" in text or "@" in text else "username")
        return _users_page(request, runtime, user, errors={field: text[0].upper() + text[1:]}, values=values,
                           status_code=400)
    return _done(request, "/staff/users", f"User {values['username'].lower()} added as {values['role']}.")


def _user_or_404(session: Any, user_id: int) -> User:
    found = session.get(User, user_id)
    if found is None:
        raise PageNotFound(f"There is no user {user_id}.")
    return found  # type: ignore[no-any-return]


@router.post("/users/{user_id}")
async def change_user(user_id: RowId, request: Request, runtime: RuntimeDep, user: AdminUser) -> Response:
    """One form per user row: change role, (de)activate, unlock or set a new password."""
    form = await request.form()
    what = _text(form, "change", 20)
    try:
        with runtime.database.session() as session:
            target = _user_or_404(session, user_id)
            if target.username == user.username and what in {"role", "deactivate"}:
                raise InvalidMessage("you cannot change your own role or deactivate yourself; ask another admin")
            if what == "role":
                change_role(session, target, _text(form, "role", 20), actor=user.username)
                message = f"{target.username} is now {target.role}."
            elif what in {"activate", "deactivate", "unlock"}:
                set_active(session, target, what != "deactivate", actor=user.username)
                message = f"{target.username} is {'deactivated' if what == 'deactivate' else 'active and unlocked'}."
            elif what == "sign_out":
                ended = sign_out_everywhere(session, target, actor=user.username)
                message = f"{target.username} is signed out everywhere ({ended} session{'s' if ended != 1 else ''} ended)."
            elif what == "email":
                set_email(session, target, _text(form, "email", 320) or None, actor=user.username)
                message = f"{target.username} signs in with their organisation account as {target.email or 'nobody'}."
            elif what == "password":
                password = form.get("password")
                set_password(session, target, password if isinstance(password, str) else "", actor=user.username)
                message = f"New password set for {target.username}; their other sessions have ended."
            else:
                raise InvalidMessage("choose what to change")
    except InvalidMessage as refusal:
        text = str(refusal)
        return _users_page(request, runtime, user, errors={f"user-{user_id}": text[0].upper() + text[1:]},
                           status_code=400)
    return _done(request, "/staff/users", message)


# --- API tokens ------------------------------------------------------------------------------


def _tokens_page(
    request: Request, runtime: Runtime, user: StaffUser, *, new_token: str | None = None,
    errors: dict[str, str] | None = None, name: str = "", status_code: int = 200,
) -> HTMLResponse:
    with runtime.database.session() as session:
        tokens = list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))
        session.expunge_all()
    return render(
        request,
        "tokens.html",
        {"page_title": "API tokens", "nav": "tokens", "tokens": tokens, "new_token": new_token,
         "errors": errors or {}, "name": name},
        user=user,
        status_code=status_code,
    )


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, runtime: RuntimeDep, user: AdminUser) -> HTMLResponse:
    return _tokens_page(request, runtime, user)


@router.post("/tokens", response_class=HTMLResponse)
async def add_token(request: Request, runtime: RuntimeDep, user: AdminUser) -> HTMLResponse:
    form = await request.form()
    name = _text(form, "name", 120)
    try:
        with runtime.database.session() as session:
            scopes = (WRITE_ITEMS, READ_ITEMS) if form.get("read_items") == "yes" else (WRITE_ITEMS,)
            token = create_token(session, name, created_by=user.username, scopes=scopes)
    except InvalidMessage as refusal:
        text = str(refusal)
        return _tokens_page(request, runtime, user, errors={"name": text[0].upper() + text[1:]}, name=name,
                            status_code=400)
    # Shown once, on this response only (not a redirect: it must never sit in a cookie or a URL).
    return _tokens_page(request, runtime, user, new_token=token, name=name)


@router.post("/tokens/{token_id}/revoke")
def revoke(token_id: RowId, request: Request, runtime: RuntimeDep, user: AdminUser) -> Response:
    with runtime.database.session() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise PageNotFound(f"There is no token {token_id}.")
        revoke_token(session, token.name, actor=user.username)
        name = token.name
    token_cache(runtime).forget()  # at once here; other API processes within TTL_SECONDS
    return _done(request, "/staff/tokens", f"Token {name} revoked: it no longer works.")


# --- model versions --------------------------------------------------------------------------


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, runtime: RuntimeDep, user: AdminUser) -> HTMLResponse:
    from intake.learning_loop import model_versions
    from intake.model_status import retrain_status
    from intake.retrain_progress import read_progress

    with runtime.database.session() as session:
        status = retrain_status(session)
    # The stage reached while one runs; "finished"/"failed" are an earlier run's last word (a new run
    # overwrites them at its first step), so until then the page says it waits for a worker.
    progress = read_progress(runtime.settings.model_dir) if status.running else None
    if progress is not None and progress.stage in ("finished", "failed"):
        progress = None
    return render(
        request,
        "models.html",
        {"page_title": "Model versions", "nav": "models", "versions": model_versions(runtime), "retrain": status,
         "progress": progress},
        user=user,
    )


@router.post("/models/promote")
async def promote(request: Request, runtime: RuntimeDep, user: AdminUser) -> Response:
    from intake.learning_loop import model_versions, promote_version

    form = await request.form()
    version = _text(form, "version", 100)
    rejected = next(
        (
            row.evaluation.get("reason", "the quality check rejected it")
            for row in model_versions(runtime)
            if row.version == version and row.evaluation and row.evaluation.get("promoted") is False
        ),
        None,
    )
    if rejected is not None and _text(form, "confirm_rejected", 10) != "yes":
        return _done(
            request, "/staff/models",
            f"Not promoted: version {version} failed the quality check ({rejected}). Tick the box to confirm "
            "you want to use it anyway.",
        )
    try:
        if rejected is not None:
            with runtime.database.session() as session:
                audit.record(session, actor=user.username, action="model_gate_overridden", version=version,
                             gate_reason=rejected)
        promote_version(runtime, version, actor=user.username)
    except SERVICE_ERRORS as refusal:
        return _done(request, "/staff/models", f"Not promoted: {refusal}")
    return _done(request, "/staff/models", f"Model {version} is now in use.")


@router.post("/models/rollback")
def rollback(request: Request, runtime: RuntimeDep, user: AdminUser) -> Response:
    from intake.learning_loop import roll_back

    try:
        version = roll_back(runtime, actor=user.username)
    except SERVICE_ERRORS as refusal:
        return _done(request, "/staff/models", f"Could not roll back: {refusal}")
    return _done(request, "/staff/models", f"Rolled back: model {version} is in use again.")


@router.post("/models/retrain")
def retrain(request: Request, runtime: RuntimeDep, user: AdminUser) -> Response:
    from intake.learning_loop import schedule_retrain

    if not schedule_retrain(runtime, actor=user.username):
        return _done(request, "/staff/models", "A retraining is already running; its result will appear here.")
    mode = "by a worker" if runtime.settings.uses_redis else "now, in the background"
    return _done(request, "/staff/models",
                 f"Retraining queued to run {mode}. The new version is used only if it is not worse.")


# --- settings (read-only: they come from the environment) ----------------------------------


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, runtime: RuntimeDep, user: AdminUser) -> HTMLResponse:
    settings = runtime.settings
    rows = [
        ("Environment", settings.environment.value),
        ("Public address", settings.public_base_url),
        ("Complaints policy", settings.policy),
        ("Nation (bank holidays)", settings.nation),
        ("Database", runtime.database.engine.url.render_as_string(hide_password=True)),
        ("Background jobs", "Redis worker queue" if settings.uses_redis else "in this process"),
        ("Email sending", f"SMTP {settings.smtp.host} (signs in with {settings.email.smtp_auth})" if settings.smtp.host else "not configured (written to the outbox folder)"),
        ("Text messages", "Twilio" if settings.twilio.account_sid else "not configured (written to the outbox folder)"),
        *settings_rows(runtime),  # each mailbox: how it signs in, last poll, last error, waiting
        ("Model folder", str(settings.model_dir)),
        ("Outbox folder (messages not sent by a provider)", str(settings.outbox_dir)),
        ("Landlord name in letters", runtime.policy.landlord_name),
        ("Landlord phone in letters", runtime.policy.contact.phone),
        ("Emergency repairs phone in letters", runtime.policy.contact.emergency_repairs_phone),
        ("Landlord email in letters", runtime.policy.contact.email),
        ("Contact form: files", f"up to {settings.web.max_attachments}, each under {settings.web.max_attachment_bytes // (1024 * 1024)}MB"),
        ("Contact form: rate limit", f"{settings.web.submissions_per_minute} a minute, {settings.web.submissions_per_hour} an hour per address"),
    ]
    return render(request, "settings.html", {"page_title": "Settings", "nav": "settings", "rows": rows}, user=user)
