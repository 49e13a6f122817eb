"""Twilio's inbound-message webhooks (texts and call transcriptions), served ahead of FastAPI's routing.

A storm night (a flood, a heating outage across an estate) is when residents text at once, and on
2 cores FastAPI's routing, dependency solving and response classes cost a webhook about as much CPU
as checking and storing it (py-spy, docs/benchmarks.md "Sixth session"). So these two routes are
answered by this plain ASGI middleware, with the same steps as the documented routes in
intake/api/webhooks/twilio.py, from the same functions:

    read the body with the size limit (413) → check the Twilio signature (403; 422 when not form
    data, `twilio_signature.verified_form`) → the channel adapter's message → stored by the group
    writer (`inbound.store_or_keep`: a message ingest refuses is kept, 422) → empty TwiML.

Errors are answered by the app's own error body (`errors.error_response`). It sits inside the
security-headers middleware, so its answers carry the same headers. Everything else — the
delivery-status webhook, other methods, every other path — goes on to FastAPI, whose routes for
these two paths stay as the documented contract (/docs) and serve the same steps when this is not
installed; tests/channels/test_twilio_fast_path.py checks both answer alike.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Protocol

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from channels.message import InboundMessage
from intake.api.errors import error_response
from intake.api.inbound import limited_body, store_or_keep
from intake.api.webhooks.twilio import EMPTY_TWIML, SMS, TRANSCRIPTION, router
from intake.api.webhooks.twilio_signature import verified_form
from intake.errors import SERVICE_ERRORS
from intake.ingest_groups import IngestGroups
from intake.runtime import Runtime

log = logging.getLogger(__name__)


class FormAdapter(Protocol):
    """A channel adapter that makes a message of a webhook form already read (channels/sms.py…)."""

    def from_form(self, form: Mapping[str, str], *, raw: bytes) -> InboundMessage: ...


# The paths are the documented routes' own, so the two can never drift apart.
ADAPTERS: dict[str, FormAdapter] = {f"{router.prefix}/sms": SMS, f"{router.prefix}/transcription": TRANSCRIPTION}

_TWIML = EMPTY_TWIML.encode()
_TWIML_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-length", str(len(_TWIML)).encode()), (b"content-type", b"text/xml; charset=utf-8")],
}
_TWIML_BODY = {"type": "http.response.body", "body": _TWIML}


class TwilioInboundFastPath:
    """Answers POSTs to the inbound-message webhooks; passes every other request on to `app`."""

    def __init__(self, app: ASGIApp, *, runtime: Runtime, groups: IngestGroups) -> None:
        self.app = app
        self.runtime = runtime
        self.groups = groups

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        adapter = ADAPTERS.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if adapter is None:
            await self.app(scope, receive, send)
            return
        try:
            await self._receive(scope, receive, adapter)
        except ClientDisconnect:
            return  # gone before its body arrived: nothing was stored, nobody to answer
        except SERVICE_ERRORS as error:
            await error_response(error)(scope, receive, send)
            return
        # A fresh dict each time: a server may add to the message it is handed.
        await send(dict(_TWIML_START, headers=list(_TWIML_START["headers"])))  # type: ignore[call-overload]
        await send(_TWIML_BODY)

    async def _receive(self, scope: Scope, receive: Receive, adapter: FormAdapter) -> None:
        declared, signature = _headers(scope)
        raw = await limited_body(declared, _chunks(receive), self.runtime.settings.max_body_bytes)
        client = scope.get("client")
        fields = verified_form(
            self.runtime,
            raw,
            path=scope["path"],
            query=scope.get("query_string", b"").decode(),
            signature=signature,
            client_host=client[0] if client else "unknown",
        )
        message = adapter.from_form(fields, raw=raw)
        result = await store_or_keep(self.runtime, self.groups, message, raw=raw, actor="twilio")
        if not result.created:
            log.info("Twilio replayed %s %s: already item %s", message.channel, message.external_id, result.item_id)


def _headers(scope: Scope) -> tuple[str | None, str]:
    """Content-Length and X-Twilio-Signature, in one pass over the headers."""
    declared: str | None = None
    signature = ""
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = value.decode("latin-1")
        elif name == b"x-twilio-signature":
            signature = value.decode("latin-1")
    return declared, signature


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as it arrives, as Starlette's `Request.stream` gives it."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        body: bytes = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return
