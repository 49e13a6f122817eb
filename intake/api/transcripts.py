"""`POST /api/v1/transcripts`: a call transcript from any telephony or speech-to-text system.

The payload and how it becomes a message are channels/transcripts.py; this is the endpoint shape
every inbound route shares (intake/api/inbound.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from channels.transcripts import TranscriptApiAdapter, TranscriptIn
from intake.api.deps import ApiClientDep, RuntimeDep
from intake.api.inbound import accepted, receive
from intake.api.schemas import ItemAccepted

router = APIRouter(prefix="/api/v1", tags=["transcripts"])

TRANSCRIPT_SCHEMA = {
    "content": {"application/json": {"schema": TranscriptIn.model_json_schema()}},
    "required": True,
}


@router.post(
    "/transcripts",
    response_model=ItemAccepted,
    status_code=202,
    openapi_extra={"requestBody": TRANSCRIPT_SCHEMA},
    responses={200: {"description": "already received: the existing item"}, 413: {}, 422: {}},
)
async def post_transcript(
    request: Request, response: Response, runtime: RuntimeDep, client: ApiClientDep
) -> ItemAccepted:
    """Ingest one call transcript. The payload is kept exactly as sent, even when refused."""
    adapter = TranscriptApiAdapter(client_name=client.name)
    result = await receive(request, runtime, adapter, actor=f"api:{client.name}")
    return await accepted(runtime, result, response)
