"""Dependencies declared once: the runtime, a database session, the calling integration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from intake.api.token_cache import token_cache
from intake.runtime import Runtime
from models import ApiToken


def get_runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime_dep)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_api_client(request: Request, runtime: RuntimeDep) -> ApiToken:
    # Checked against the database at most every few seconds per token (intake/api/token_cache.py).
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return await token_cache(runtime).authenticate(runtime, token.strip() if scheme.lower() == "bearer" else None)


ApiClientDep = Annotated[ApiToken, Depends(get_api_client)]
