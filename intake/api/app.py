"""The FastAPI application, built by a factory from a Runtime (never at import time)."""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI

from intake.api.errors import install_error_handlers
from intake.privacy.logs import redact_access_log
from intake.runtime import Runtime, get_runtime

log = logging.getLogger(__name__)

# Every router the app serves, in one explicit list.
ROUTERS = [
    "intake.api.health:router",
    "intake.api.items:router",
    "intake.web.contact:router",
    "intake.web.staff:router",
    "intake.reports.views:router",
    "channels.twilio_webhooks:router",
    "channels.transcripts:router",
]


def create_app(runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or get_runtime()
    app = FastAPI(
        title="Housing intake and triage",
        version="0.1.0",
        description="Every message a landlord receives — stored once, labelled, routed and acknowledged.",
    )
    app.state.runtime = runtime
    redact_access_log()  # search words and identifiers in query strings stay out of the access log
    install_error_handlers(app)
    for target in ROUTERS:
        module_name, _, attribute = target.partition(":")
        app.include_router(getattr(importlib.import_module(module_name), attribute))
    from intake.web.setup import install as install_web

    install_web(app)  # /static, sign-in redirects and refusal pages, security headers
    return app


def app_factory() -> FastAPI:
    """For `uvicorn --factory intake.api.app:app_factory` (each worker process builds its own)."""
    return create_app()
