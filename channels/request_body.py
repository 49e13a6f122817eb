"""Reading a webhook or API body with a size limit, before anything is parsed."""

from __future__ import annotations

from fastapi import Request

from intake.errors import PayloadTooLarge


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
