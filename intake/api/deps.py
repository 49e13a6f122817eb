"""Dependencies declared once: the runtime, a database session, the calling integration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from intake.api.token_cache import token_cache
from intake.ingest_groups import IngestGroups
from intake.runtime import Runtime
from intake.tokens import READ_ITEMS, WRITE_ITEMS, require_scope
from models import ApiToken


# `async`, though they only read an attribute: FastAPI runs a plain `def` dependency in its thread
# pool, a hop that cost every webhook more CPU than the dependency itself (issue 14's profile).
async def get_runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime_dep)]


async def get_ingest_groups(request: Request) -> IngestGroups:
    return request.app.state.ingest_groups  # type: ignore[no-any-return]


IngestGroupsDep = Annotated[IngestGroups, Depends(get_ingest_groups)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def _api_client(request: Request, runtime: Runtime, scope: str) -> ApiToken:
    # Checked against the database at most every few seconds per token (intake/api/token_cache.py);
    # the scope is checked on every request.
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = await token_cache(runtime).authenticate(runtime, token.strip() if scheme.lower() == "bearer" else None)
    require_scope(found, scope)
    return found


async def get_api_client(request: Request, runtime: RuntimeDep) -> ApiToken:
    """The calling integration, holding the items:write scope."""
    return await _api_client(request, runtime, WRITE_ITEMS)


async def get_reading_client(request: Request, runtime: RuntimeDep) -> ApiToken:
    """The calling integration, holding the items:read scope."""
    return await _api_client(request, runtime, READ_ITEMS)


ApiClientDep = Annotated[ApiToken, Depends(get_api_client)]
ReadingClientDep = Annotated[ApiToken, Depends(get_reading_client)]
