"""Reading a JSON or webhook body safely: a size limit before anything is parsed, refused payloads
kept with the reason, and the one "accepted" answer every ingest endpoint gives."""

from __future__ import annotations

import json
from typing import TypeVar

from fastapi import Request, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from intake.api.schemas import ItemAccepted
from intake.errors import InvalidMessage, PayloadTooLarge
from intake.items import keep_rejected_payload
from intake.pipeline import IngestResult
from intake.runtime import Runtime
from models import Item

PayloadModel = TypeVar("PayloadModel", bound=BaseModel)


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or PayloadTooLarge (413) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {int(declared)} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_payload(
    runtime: Runtime,
    payload: bytes,
    model: type[PayloadModel],
    *,
    what: str,
    channel: str,
    content_type: str = "application/json",
) -> PayloadModel:
    """The payload as `model`, or InvalidMessage naming the problem — with the payload kept as refused."""
    try:
        return model.model_validate(json.loads(payload.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError) as error:
        reason = _describe(error, what)
        with runtime.database.session() as session:
            kept = keep_rejected_payload(
                session, channel=channel, content=payload, content_type=content_type, reason=reason
            )
        raise InvalidMessage(f"{reason} (payload kept as rejected #{kept})") from error


def _describe(error: Exception, what: str) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"the body is not valid UTF-8 (byte {error.start})"
    if isinstance(error, json.JSONDecodeError):
        return f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    assert isinstance(error, ValidationError)
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()[:10]]
    return f"invalid {what}: " + "; ".join(problems)


async def accepted(runtime: Runtime, result: IngestResult, response: Response) -> ItemAccepted:
    """202 for a new item, 200 for one already received; with the item's state as ingest saw it.

    No second look at the database when a worker processes the item (rq, database queue): a new
    item is `received` until then, and a repeat's state was read by `ingest` itself. Only with
    inline jobs (tests, scripts), where the item was processed on this request, is it read again.
    """
    if not result.created:
        response.status_code = 200
    reference, status = result.reference, result.status
    if result.created and runtime.settings.job_mode == "inline":
        reference, status = await run_in_threadpool(_reference_and_status, runtime, result)
    return ItemAccepted(
        id=result.item_id,
        reference=reference,
        status=status,
        created=result.created,
        url=f"/api/v1/items/{reference}" if reference else "",
    )


def _reference_and_status(runtime: Runtime, result: IngestResult) -> tuple[str | None, str]:
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        return (item.reference, item.status) if item else (result.reference, result.status)
