"""Dependencies declared once: the runtime, a database session, the calling integration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from intake.runtime import Runtime
from intake.tokens import READ_ITEMS, WRITE_ITEMS, authenticate
from models import ApiToken


def get_runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime_dep)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _api_client(request: Request, runtime: Runtime, scope: str) -> ApiToken:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    with runtime.database.session() as session:
        found = authenticate(session, token.strip() if scheme.lower() == "bearer" else None, scope=scope)
        session.flush()  # last_used_at, committed as this unit of work ends
        session.expunge(found)
        return found


def get_api_client(request: Request, runtime: RuntimeDep) -> ApiToken:
    """The calling integration, holding the items:write scope."""
    return _api_client(request, runtime, WRITE_ITEMS)


def get_reading_client(request: Request, runtime: RuntimeDep) -> ApiToken:
    """The calling integration, holding the items:read scope."""
    return _api_client(request, runtime, READ_ITEMS)


ApiClientDep = Annotated[ApiToken, Depends(get_api_client)]
ReadingClientDep = Annotated[ApiToken, Depends(get_reading_client)]
