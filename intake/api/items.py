"""POST /api/v1/items and GET /api/v1/items/{reference}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from channels.message import InboundMessage
from channels.phone import looks_like_phone, normalise_phone
from intake.api.deps import ApiClientDep, ReadingClientDep, RuntimeDep, SessionDep
from intake.api.payloads import accepted, parse_json_payload, read_limited
from intake.api.schemas import (
    AcknowledgementOut,
    CaseOut,
    DeadlineOut,
    ItemAccepted,
    ItemIn,
    ItemOut,
    request_body,
)
from intake.cases import current_deadlines
from intake.errors import InvalidMessage
from intake.items import case_items, get_item_by_reference
from intake.pipeline import ingest

router = APIRouter(prefix="/api/v1", tags=["items"])

ITEM_SCHEMA = request_body(ItemIn)


@router.post(
    "/items",
    response_model=ItemAccepted,
    status_code=202,
    openapi_extra={"requestBody": ITEM_SCHEMA},
    responses={
        200: {"description": "already received: the existing item", "model": ItemAccepted},
        401: {"description": "no valid API token"},
        403: {"description": "the token lacks the items:write scope"},
        413: {"description": "the body is over the size limit"},
        422: {"description": "the body is not a valid item (it is kept, with the reason)"},
    },
)
async def post_item(
    request: Request, response: Response, runtime: RuntimeDep, client: ApiClientDep
) -> ItemAccepted:
    """Ingest one message from another system. The body is kept exactly as sent, even when refused."""
    payload = await read_limited(request, runtime.settings.max_body_bytes)
    message = _parse_item(runtime, payload, request.headers.get("content-type", ""), client.name)
    # The pipeline is synchronous database work: run it off the event loop so one slow request
    # does not hold up every other request this process is serving.
    result = await run_in_threadpool(ingest, runtime, message, actor=f"api:{client.name}")
    return await accepted(runtime, result, response)


def _parse_item(runtime, payload: bytes, content_type: str, client_name: str) -> InboundMessage:  # type: ignore[no-untyped-def]
    data = parse_json_payload(
        runtime, payload, ItemIn, what="item", channel="api", content_type=content_type or "application/json"
    )
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
        metadata={"source": f"api:{client_name}"},
        client_metadata=data.metadata,
    )


@router.get(
    "/items/{reference}",
    response_model=ItemOut,
    responses={
        401: {"description": "no valid API token"},
        403: {"description": "the token lacks the items:read scope"},
        404: {"description": "no such item"},
    },
)
def get_item(
    reference: Annotated[str, Path(max_length=40)], session: SessionDep, client: ReadingClientDep
) -> ItemOut:
    """An item with its labels, queue, deadlines, case and acknowledgements (needs the items:read scope)."""
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
