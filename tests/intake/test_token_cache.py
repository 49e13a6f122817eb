"""API tokens are looked up once every few seconds per process; refusals are never remembered."""

from __future__ import annotations

import asyncio

import pytest

from intake.api.token_cache import TokenCache
from intake.errors import NotAuthorised
from intake.runtime import Runtime
from intake.tokens import create_token, revoke_token


def test_a_valid_token_is_remembered_until_forgotten_and_a_wrong_one_never(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        token = create_token(session, "housing-system")
    cache = TokenCache(ttl_seconds=60)
    assert asyncio.run(cache.authenticate(runtime, token)).name == "housing-system"
    with runtime.database.session() as session:
        revoke_token(session, "housing-system", actor="test")
    # Remembered: still accepted within the TTL in a process that has not been told.
    assert asyncio.run(cache.authenticate(runtime, token)).name == "housing-system"
    cache.forget()
    with pytest.raises(NotAuthorised):
        asyncio.run(cache.authenticate(runtime, token))
    with pytest.raises(NotAuthorised):
        asyncio.run(cache.authenticate(runtime, "itk_wrong"))


def test_a_remembered_token_expires(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        token = create_token(session, "crm")
    cache = TokenCache(ttl_seconds=0)
    asyncio.run(cache.authenticate(runtime, token))
    with runtime.database.session() as session:
        revoke_token(session, "crm", actor="test")
    with pytest.raises(NotAuthorised):
        asyncio.run(cache.authenticate(runtime, token))
