"""Jinja2 templates for the contact form and the workspace, rendered with the CSRF token and user.

Autoescaping is on for every template, so whatever a resident typed is shown as text, never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from intake import formatting
from intake.model_status import metric_in_words
from intake.runtime import get_runtime
from intake.web import csrf, flash, previews
from intake.web.auth import StaffUser

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
formatting.install(_environment)
previews.install(_environment)
_environment.filters["metric_words"] = metric_in_words
templates = Jinja2Templates(env=_environment)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    user: StaffUser | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page that extends base.html; `user` shows the staff navigation."""
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "csrf_token": csrf.csrf_token(request),
        "now": get_runtime().clock.now(),  # the runtime's clock: every date on the page counts from it
        "errors": {},
        "page_title": "",
        "flash": flash.read_flash(request),
    }
    values.update(context or {})
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    csrf.persist(request, response)
    if values["flash"]:
        flash.clear_flash(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response
