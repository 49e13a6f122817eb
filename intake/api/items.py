"""POST /api/v1/items and GET /api/v1/items/{reference}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from channels.api_items import ItemIn, ItemsApiAdapter
from intake.api.deps import ReadingClientDep, SessionDep
from intake.api.inbound import add_json_intake_route
from intake.api.schemas import (
    AcknowledgementOut,
    CaseOut,
    DeadlineOut,
    ItemOut,
)
from intake.cases import current_deadlines
from intake.items import case_items, get_item_by_reference

router = APIRouter(prefix="/api/v1", tags=["items"])

add_json_intake_route(
    router,
    "/items",
    name="post_item",
    body=ItemIn,
    adapter=lambda client_name: ItemsApiAdapter(client_name=client_name),
    what="item",
    summary="Ingest one message from another system. The body is kept exactly as sent, even when refused.",
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
