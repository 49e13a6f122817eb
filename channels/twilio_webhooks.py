"""Twilio's webhooks: inbound texts, call transcriptions and delivery reports.

Each one is signed (channels/twilio_signature.py), answered at once with empty TwiML, and handed to
the pipeline's `ingest`, which stores the message once per MessageSid / CallSid and queues the work:
Twilio gives up on a webhook after 15 seconds and nothing slow should stand between it and a 200.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Response

from channels.message import InboundMessage
from channels.sms import FORM_CONTENT_TYPE, message_from_twilio_form
from channels.transcripts import message_from_twilio_transcription
from channels.twilio_signature import SignedFormDep
from intake.acknowledgements import record_delivery_status
from intake.api.deps import RuntimeDep
from intake.errors import InvalidMessage
from intake.items import keep_rejected_payload
from intake.pipeline import IngestResult, ingest
from intake.runtime import Runtime

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
TWIML_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"text/xml": {}}, "description": "empty TwiML: nothing to say back"}}

router = APIRouter(prefix="/webhooks/twilio", tags=["twilio webhooks"])


def empty_twiml() -> Response:
    return Response(content=EMPTY_TWIML, media_type="text/xml")


# Handlers are plain `def`: FastAPI runs them in its thread pool, so the database work in `ingest`
# never blocks the event loop while the signature check (async, it reads the body) stays cheap.


@router.post("/sms", response_class=Response, responses=TWIML_RESPONSES)
def inbound_sms(form: SignedFormDep, runtime: RuntimeDep) -> Response:
    """An inbound text. A replayed MessageSid is answered the same way and changes nothing."""
    result = _ingest_keeping_refused(runtime, message_from_twilio_form(form.fields, raw=form.raw))
    if not result.created:
        log.info("Twilio replayed text %s: already item %s", form.fields.get("MessageSid"), result.item_id)
    return empty_twiml()


@router.post("/transcription", response_class=Response, responses=TWIML_RESPONSES)
def transcription(form: SignedFormDep, runtime: RuntimeDep) -> Response:
    """A recorded call's transcription (completed or failed): one item per CallSid."""
    _ingest_keeping_refused(runtime, message_from_twilio_transcription(form.fields, raw=form.raw))
    return empty_twiml()


def _ingest_keeping_refused(runtime: Runtime, message: InboundMessage) -> IngestResult:
    """Ingest; a signed payload the pipeline refuses (no MessageSid…) is kept with the reason."""
    try:
        return ingest(runtime, message, actor="twilio")
    except InvalidMessage as error:
        with runtime.database.session() as session:
            kept = keep_rejected_payload(
                session,
                channel=message.channel,
                content=message.raw or b"",
                content_type=message.raw_content_type or FORM_CONTENT_TYPE,
                reason=str(error),
            )
        raise InvalidMessage(f"{error} (payload kept as rejected #{kept})") from error


@router.post("/status", response_class=Response, responses=TWIML_RESPONSES)
def delivery_status(form: SignedFormDep, runtime: RuntimeDep) -> Response:
    """A delivery report for a text we sent: delivered / failed / undelivered are recorded."""
    provider_id = form.fields.get("MessageSid") or form.fields.get("SmsSid") or ""
    status = (form.fields.get("MessageStatus") or form.fields.get("SmsStatus") or "").lower()
    error_code = form.fields.get("ErrorCode") or None
    if provider_id and status:
        known = record_delivery_status(runtime, provider_id=provider_id, status=status, error_code=error_code)
        if not known:
            # Another application on the same account, or a text sent before this database existed.
            log.info("delivery status %s for a message we did not send: %s", status, provider_id)
    return empty_twiml()
