"""GET /healthz: the database, and Redis when configured; each mailbox's last poll as details."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from intake.api.deps import RuntimeDep
from intake.email_mailboxes import health_details

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with runtime.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # reported, not raised: this endpoint exists to say what is wrong
        checks["database"] = f"error: {type(error).__name__}"
    if runtime.settings.redis_url:
        try:
            runtime.jobs.ping()  # type: ignore[attr-defined]
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"error: {type(error).__name__}"
    else:
        checks["jobs"] = runtime.settings.job_mode  # "database" (the queue table) or "inline"
    healthy = all(value in ("ok", "database", "inline") for value in checks.values())
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable", **checks}
    if checks["database"] == "ok":
        # Details, not part of "status": one mailbox that cannot sign in leaves the others working.
        body["mailboxes"] = health_details(runtime)
    return JSONResponse(body, status_code=200 if healthy else 503)
