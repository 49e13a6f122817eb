"""POST /api/v1/items and GET /api/v1/items/{reference}."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from channels.message import InboundMessage
from channels.phone import looks_like_phone, normalise_phone
from intake.api.deps import ApiClientDep, RuntimeDep, SessionDep
from intake.api.schemas import (
    AcknowledgementOut,
    CaseOut,
    DeadlineOut,
    ItemAccepted,
    ItemIn,
    ItemOut,
)
from intake.cases import current_deadlines
from intake.errors import InvalidMessage, PayloadTooLarge
from intake.items import case_items, get_item_by_reference, keep_rejected_payload
from intake.pipeline import IngestResult, ingest
from intake.runtime import Runtime
from models import Item

router = APIRouter(prefix="/api/v1", tags=["items"])

ITEM_SCHEMA = {"content": {"application/json": {"schema": ItemIn.model_json_schema()}}, "required": True}


@router.post(
    "/items",
    response_model=ItemAccepted,
    status_code=202,
    openapi_extra={"requestBody": ITEM_SCHEMA},
    responses={200: {"description": "already received: the existing item"}, 413: {}, 422: {}},
)
async def post_item(
    request: Request, response: Response, runtime: RuntimeDep, client: ApiClientDep
) -> ItemAccepted:
    """Ingest one message from another system. The body is kept exactly as sent, even when refused."""
    payload = await _read_limited(request, runtime.settings.max_body_bytes)
    message = _parse_item(runtime, payload, request.headers.get("content-type", ""), client.name)
    # The pipeline is synchronous database work: run it off the event loop so one slow request
    # does not hold up every other request this process is serving.
    result = await run_in_threadpool(ingest, runtime, message, actor=f"api:{client.name}")
    if not result.created:
        response.status_code = 200
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


async def _read_limited(request: Request, limit: int) -> bytes:
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


def _parse_item(runtime, payload: bytes, content_type: str, client_name: str) -> InboundMessage:  # type: ignore[no-untyped-def]
    try:
        text = payload.decode("utf-8")
        data = ItemIn.model_validate(json.loads(text))
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError) as error:
        reason = _describe(error)
        with runtime.database.session() as session:
            kept = keep_rejected_payload(
                session,
                channel="api",
                content=payload,
                content_type=content_type or "application/json",
                reason=reason,
            )
        raise InvalidMessage(f"{reason} (payload kept as rejected #{kept})") from error
    external_id = data.external_id or data.id
    if not external_id:
        raise InvalidMessage("external_id is required: it is what makes a repeated delivery harmless")
    sender = (data.sender or "").strip() or None
    email = data.sender_email or (sender.lower() if sender and "@" in sender else None)
    phone = normalise_phone(data.sender_phone) or (
        normalise_phone(sender) if looks_like_phone(sender) else None
    )
    return InboundMessage(
        channel=data.channel,
        external_id=f"{client_name}:{external_id}",
        body=data.body,
        received_at=data.received_at,
        subject=data.subject,
        sender_address=email or phone or sender,
        sender_name=data.sender_name,
        sender_email=email,
        sender_phone=phone,
        sender_role=data.sender_role,
        raw=payload,
        raw_content_type="application/json",
        ack_channel=data.ack_channel,
        metadata={"source": f"api:{client_name}", **data.metadata},
    )


def _describe(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"the body is not valid UTF-8 (byte {error.start})"
    if isinstance(error, json.JSONDecodeError):
        return f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    assert isinstance(error, ValidationError)
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()[:10]]
    return "invalid item: " + "; ".join(problems)


@router.get("/items/{reference}", response_model=ItemOut)
def get_item(reference: str, session: SessionDep, client: ApiClientDep) -> ItemOut:
    """An item with its labels, queue, deadlines, case and acknowledgements."""
    item = get_item_by_reference(session, reference)
    root_id = item.case_root_id
    members = case_items(session, root_id)
    root = next((m for m in members if m.id == root_id), item)
    return ItemOut(
        id=item.id,
        reference=item.reference,
        channel=item.channel,
        received_at=item.received_at,
        status=item.status,
        subject=item.subject,
        type=item.type,
        confidence=item.confidence,
        categories=item.categories,
        flags=item.flags,
        hazards=item.hazards,
        queue=item.queue,
        model_version=item.model_version,
        review_reason=item.review_reason,
        complaint_stage=root.complaint_stage,
        deadlines=[
            DeadlineOut(kind=d.kind, stage=d.stage, due_at=d.due_at, basis=d.basis, met_at=d.met_at)
            for d in current_deadlines(root)
        ],
        case=CaseOut(
            root_reference=root.reference,
            items=[m.reference or str(m.id) for m in members],
            status=root.case_status,
            stage=root.complaint_stage,
        ),
        acknowledgements=[
            AcknowledgementOut(
                purpose=a.purpose,
                channel=a.channel,
                recipient=a.recipient,
                status=a.status,
                sent_at=a.sent_at,
                attempts=a.attempts,
                last_error=a.last_error,
            )
            for m in members
            for a in m.acknowledgements
            if m.id in (item.id, root_id)
        ],
    )
