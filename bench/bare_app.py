"""The floor for bench_api.py: one FastAPI route shaped like POST /api/v1/items that stores nothing.

It parses and validates the same JSON body and answers 202 with a body of the same shape, so the
difference from the real endpoint is what intake does per request (token check, database writes,
the rq enqueue), not HTTP or JSON. Served by uvicorn exactly as `intake serve` serves the real app:

    .venv/bin/uvicorn bench.bare_app:app --port 8766 --workers 2
"""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import FastAPI
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


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
