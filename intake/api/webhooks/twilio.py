"""Twilio's webhooks: inbound texts, call transcriptions and delivery reports.

Each one is signed (intake/api/webhooks/twilio_signature.py), parsed by its channel adapter
(channels/sms.py, channels/transcripts.py), answered at once with empty TwiML, and handed to the
pipeline's `ingest`, which stores the message once per MessageSid / CallSid and queues the work:
Twilio gives up on a webhook after 15 seconds and nothing slow should stand between it and a 200.

Texts and transcriptions are answered by intake/api/webhooks/twilio_fast_path.py before FastAPI's
routing, with the same steps; their routes here are the documented contract and serve them when
that is not installed.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Response

from channels.sms import TwilioSmsAdapter
from channels.transcripts import TwilioTranscriptionAdapter
from intake.acknowledgements import record_delivery_status
from intake.api.inbound import store_or_keep
from intake.api.webhooks.twilio_signature import SignedFormDep

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
TWIML_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/xml": {}}, "description": "empty TwiML: nothing to say back"}
}

router = APIRouter(prefix="/webhooks/twilio", tags=["twilio webhooks"])

# The adapters are stateless; each makes a message of the form the signature check has read.
SMS = TwilioSmsAdapter()
TRANSCRIPTION = TwilioTranscriptionAdapter()


def empty_twiml() -> Response:
    return Response(content=EMPTY_TWIML, media_type="text/xml")


# Texts and transcriptions are parsed on the event loop (pure, no I/O) and stored by the process's
# group writer (intake/ingest_groups.py): the handler awaits its commit without holding a thread.
# The delivery-status handler is plain `def`: FastAPI runs it in its thread pool.


@router.post("/sms", response_class=Response, responses=TWIML_RESPONSES)
async def inbound_sms(form: SignedFormDep) -> Response:
    """An inbound text. A replayed MessageSid is answered the same way and changes nothing."""
    outcome = SMS.from_form(form.fields, raw=form.raw)
    result = await store_or_keep(form.runtime, form.groups, outcome, raw=form.raw, actor="twilio")
    if not result.created:
        log.info("Twilio replayed text %s: already item %s", form.fields.get("MessageSid"), result.item_id)
    return empty_twiml()


@router.post("/transcription", response_class=Response, responses=TWIML_RESPONSES)
async def transcription(form: SignedFormDep) -> Response:
    """A recorded call's transcription (completed or failed): one item per CallSid."""
    outcome = TRANSCRIPTION.from_form(form.fields, raw=form.raw)
    await store_or_keep(form.runtime, form.groups, outcome, raw=form.raw, actor="twilio")
    return empty_twiml()


@router.post("/status", response_class=Response, responses=TWIML_RESPONSES)
def delivery_status(form: SignedFormDep) -> Response:
    """A delivery report for a text we sent: delivered / failed / undelivered are recorded."""
    provider_id = form.fields.get("MessageSid") or form.fields.get("SmsSid") or ""
    status = (form.fields.get("MessageStatus") or form.fields.get("SmsStatus") or "").lower()
    error_code = form.fields.get("ErrorCode") or None
    if provider_id and status:
        known = record_delivery_status(form.runtime, provider_id=provider_id, status=status, error_code=error_code)
        if not known:
            # Another application on the same account, or a text sent before this database existed.
            log.info("delivery status %s for a message we did not send: %s", status, provider_id)
    return empty_twiml()
