"""The floor for bench_api.py and bench_sms_webhook.py: FastAPI routes shaped like POST /api/v1/items
and Twilio's SMS webhook that store nothing.

It parses and validates the same JSON body and answers 202 with a body of the same shape, so the
difference from the real endpoint is what intake does per request (token check, database writes,
the rq enqueue), not HTTP or JSON. Served by uvicorn exactly as `intake serve` serves the real app:

    .venv/bin/uvicorn bench.bare_app:app --port 8766 --workers 2
"""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field

app = FastAPI(title="bare intake endpoint (benchmark floor)")

_next_id = itertools.count(1)


class BareItemIn(BaseModel):
    channel: str
    external_id: str
    body: str
    subject: str | None = None
    sender: str | None = None
    sender_name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class BareItemAccepted(BaseModel):
    id: int
    reference: str | None
    status: str
    created: bool
    url: str


@app.post("/api/v1/items", status_code=202, response_model=BareItemAccepted)
async def post_item(item: BareItemIn) -> BareItemAccepted:
    return BareItemAccepted(id=next(_next_id), reference=None, status="received", created=True, url="")


@app.post("/webhooks/twilio/sms")
async def inbound_sms(request: Request) -> Response:
    """Reads the form as the real webhook does, answers the same empty TwiML; no signature check."""
    form = await request.form()
    if not form.get("MessageSid"):
        return Response(status_code=422)
    return Response(
        content='<?xml version="1.0" encoding="UTF-8"?><Response></Response>', media_type="text/xml"
    )


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
