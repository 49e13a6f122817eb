"""`POST /api/v1/transcripts`: a call transcript from any telephony or speech-to-text system.

The payload and how it becomes a message are channels/transcripts.py; the endpoint is the one every
JSON intake route shares (intake/api/inbound.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from channels.transcripts import TranscriptApiAdapter, TranscriptIn
from intake.api.inbound import add_json_intake_route

router = APIRouter(prefix="/api/v1", tags=["transcripts"])

add_json_intake_route(
    router,
    "/transcripts",
    name="post_transcript",
    body=TranscriptIn,
    adapter=lambda client_name: TranscriptApiAdapter(client_name=client_name),
    what="transcript",
    summary="Ingest one call transcript. The payload is kept exactly as sent, even when refused.",
)
