"""The FastAPI application, built by a factory from a Runtime (never at import time).

The one place the JSON API and webhooks (intake/api/) and the pages (intake/web/) meet.
"""

from __future__ import annotations

import gc
import logging

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from intake.api import health, items, transcripts
from intake.api.errors import install_error_handlers
from intake.api.webhooks import twilio as twilio_webhooks
from intake.api.webhooks.twilio_fast_path import TwilioInboundFastPath
from intake.ingest_groups import IngestGroups
from intake.privacy.logs import redact_access_log
from intake.runtime import Runtime, get_runtime
from intake.web import contact, landing, reports, staff
from intake.web.setup import install as install_web

log = logging.getLogger(__name__)

# Every router the app serves, in one explicit list. The machine-to-machine routes come first: a
# request is matched against each route in turn, and the staff workspace's many routes before the
# webhooks cost every webhook ≈ 1 ms of matching (profile in docs/benchmarks.md, issue 14).
ROUTERS: list[APIRouter] = [
    twilio_webhooks.router,
    items.router,
    transcripts.router,
    health.router,
    landing.router,
    contact.router,
    staff.router,
    reports.router,
]


def create_app(runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or get_runtime()
    # /docs and /redoc with their scripts and styles served from this app, never a CDN: the product
    # works offline and loads nothing from a third party.
    app = FastAPIOffline(
        title="Housing intake and triage",
        version="0.1.0",
        description="Every message a landlord receives — stored once, labelled, routed and acknowledged.",
    )
    app.state.runtime = runtime
    # Webhooks arriving together are stored in one transaction (intake/ingest_groups.py).
    app.state.ingest_groups = IngestGroups(runtime)
    redact_access_log()  # search words and identifiers in query strings stay out of the access log
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    # Inside the security headers (install_web adds them after, so around it): texts and call
    # transcriptions are answered before FastAPI's routing (intake/api/webhooks/twilio_fast_path.py).
    app.add_middleware(TwilioInboundFastPath, runtime=runtime, groups=app.state.ingest_groups)
    install_web(app)  # /static, sign-in redirects and refusal pages, security headers
    if runtime.settings.trusted_proxies:
        # Only these proxies' X-Forwarded-For / -Proto are believed: without it, behind a proxy every
        # resident would share one contact-form rate limit; with it for anyone, anyone could pick theirs.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=runtime.settings.trusted_proxies)
    return app


def app_factory() -> FastAPI:
    """For `uvicorn --factory intake.app:app_factory` (each worker process builds its own).

    Then `gc.freeze()`, as the workers do (`workers.preload`): what start-up built lives as long as
    the process, and the collector's first full pass over it stalled every request in flight for
    about 155 ms, once, early in a burst of webhooks (a gc callback in the API process, this host)."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
