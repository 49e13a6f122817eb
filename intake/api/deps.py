"""Dependencies declared once: the runtime, a database session, the calling integration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from intake.runtime import Runtime
from intake.tokens import authenticate
from models import ApiToken


def get_runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime_dep)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_api_client(request: Request, runtime: RuntimeDep) -> ApiToken:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    with runtime.database.session() as session:
        found = authenticate(session, token.strip() if scheme.lower() == "bearer" else None)
        session.expunge(found)
        return found


ApiClientDep = Annotated[ApiToken, Depends(get_api_client)]
