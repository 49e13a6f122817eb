"""The one inbound endpoint shape every webhook and the JSON API use.

verify (the route's dependency: an API key, or a Twilio signature) → read the body with a size limit
→ parse it with the channel's adapter (channels/) → a refused payload is kept with the reason and
answered 422 → a message is ingested (intake/pipeline.py). Ingest refusing a message (no external
id, unknown channel) is handled the same way as the adapter refusing it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from channels.base import InboundAdapter, Refused
from channels.message import InboundMessage
from intake.api.deps import ApiClientDep, RuntimeDep
from intake.api.schemas import ItemAccepted, request_body
from intake.errors import InvalidMessage, PayloadTooLarge
from intake.ingest_groups import IngestGroups
from intake.items import keep_rejected_payload
from intake.pipeline import IngestResult, ingest
from intake.runtime import Runtime
from models import Item


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or PayloadTooLarge (413) as soon as it passes `limit` bytes."""
    return await limited_body(request.headers.get("content-length"), request.stream(), limit)


async def limited_body(declared: str | None, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """`chunks` joined, or PayloadTooLarge as soon as the declared length or the bytes pass `limit`."""
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {int(declared)} bytes; the limit is {limit}")
    received: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the {limit}-byte limit")
        received.append(chunk)
    return b"".join(received)


async def receive(request: Request, runtime: Runtime, adapter: InboundAdapter, *, actor: str) -> IngestResult:
    """Read (size-limited), parse with `adapter`, keep a refused payload, ingest — for an async route.

    The ingest is synchronous database work: it runs off the event loop so one slow request does
    not hold up every other request this process is serving.
    """
    raw = await read_limited(request, runtime.settings.max_body_bytes)
    outcome = adapter.parse(raw, request.headers)
    return await run_in_threadpool(ingest_or_keep, runtime, outcome, raw=raw, actor=actor)


def ingest_or_keep(
    runtime: Runtime, outcome: InboundMessage | Refused, *, raw: bytes, actor: str
) -> IngestResult:
    """Ingest a parsed message; a refused one (by the adapter or by ingest) is kept, then InvalidMessage."""
    if isinstance(outcome, Refused):
        kept = _keep(runtime, channel=outcome.channel, raw=raw, content_type=outcome.content_type, reason=outcome.reason)
        raise InvalidMessage(f"{outcome.reason} (payload kept as rejected #{kept})")
    try:
        return ingest(runtime, outcome, actor=actor)
    except InvalidMessage as error:
        kept = _keep_refused(runtime, outcome, raw, error)
        raise InvalidMessage(f"{error} (payload kept as rejected #{kept})") from error


async def store_or_keep(
    runtime: Runtime, groups: IngestGroups, outcome: InboundMessage | Refused, *, raw: bytes, actor: str
) -> IngestResult:
    """`ingest_or_keep` for an async route, stored with whatever else is arriving at the same moment
    (intake/ingest_groups.py): the request waits, holding no thread, until its group is committed."""
    if isinstance(outcome, Refused):
        return await run_in_threadpool(ingest_or_keep, runtime, outcome, raw=raw, actor=actor)
    try:
        # A client that goes away (a provider's timeout, a server shutting down) does not take its
        # message with it: it is queued and stored all the same (IngestGroups.store).
        return await groups.store(outcome, actor=actor)
    except InvalidMessage as error:
        kept = await run_in_threadpool(_keep_refused, runtime, outcome, raw, error)
        raise InvalidMessage(f"{error} (payload kept as rejected #{kept})") from error


def _keep_refused(runtime: Runtime, message: InboundMessage, raw: bytes, error: InvalidMessage) -> int:
    """A parsed message `ingest` refused, kept as it came (the adapter's raw bytes where it has them)."""
    return _keep(
        runtime,
        channel=message.channel,
        raw=message.raw or raw,
        content_type=message.raw_content_type or "application/octet-stream",
        reason=str(error),
    )


def _keep(runtime: Runtime, *, channel: str, raw: bytes, content_type: str, reason: str) -> int:
    with runtime.database.session() as session:
        return keep_rejected_payload(session, channel=channel, content=raw, content_type=content_type, reason=reason)


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


def add_json_intake_route(
    router: APIRouter,
    path: str,
    *,
    name: str,
    body: type[BaseModel],
    adapter: Callable[[str], InboundAdapter],
    what: str,
    summary: str,
) -> None:
    """Register `POST <path>`: an API client's JSON message, the shape every JSON intake route shares
    (an API token with items:write → `receive` with the channel's adapter → 202 / 200 `ItemAccepted`).

    `adapter(client_name)` builds the channel's adapter; `body` is documented, not parsed here (the
    adapter parses, so a refused body is kept exactly as sent); `what` names it in the 422 text.
    """

    async def endpoint(request: Request, response: Response, runtime: RuntimeDep, client: ApiClientDep) -> ItemAccepted:
        result = await receive(request, runtime, adapter(client.name), actor=f"api:{client.name}")
        return await accepted(runtime, result, response)

    endpoint.__name__ = name
    endpoint.__doc__ = summary
    handler: Callable[..., Awaitable[ItemAccepted]] = endpoint
    router.add_api_route(
        path,
        handler,
        methods=["POST"],
        name=name,
        response_model=ItemAccepted,
        status_code=202,
        openapi_extra={"requestBody": request_body(body)},  # nested models inlined: no dangling $ref
        responses={
            200: {"description": "already received: the existing item", "model": ItemAccepted},
            401: {"description": "no valid API token"},
            403: {"description": "the token lacks the items:write scope"},
            413: {"description": "the body is over the size limit"},
            422: {"description": f"the body is not a valid {what} (it is kept, with the reason)"},
        },
    )
