"""API tokens checked against the database once every few seconds per process, not on every request.

A busy integration posts many items a second with the same token; looking it up each time cost a
session, a query and a thread hop per request (~9 % of the API's CPU in bench/bench_api.py). A valid
token is remembered for `TTL_SECONDS`, so revoking a token takes effect within that time in every
process. Invalid tokens are never remembered: each attempt is checked, and refused, afresh.
"""

from __future__ import annotations

import threading
import time

from starlette.concurrency import run_in_threadpool

from intake.runtime import Runtime
from intake.tokens import authenticate, hash_token
from models import ApiToken

TTL_SECONDS = 10.0
MAX_ENTRIES = 1000


class TokenCache:
    def __init__(self, ttl_seconds: float = TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, ApiToken]] = {}
        self._lock = threading.Lock()

    async def authenticate(self, runtime: Runtime, token: str | None) -> ApiToken:
        key = hash_token(token) if token else ""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        found = await run_in_threadpool(_authenticate, runtime, token)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl_seconds, found)
        return found


    def forget(self) -> None:
        """Check every token afresh (after a revocation)."""
        with self._lock:
            self._entries.clear()


def _authenticate(runtime: Runtime, token: str | None) -> ApiToken:
    with runtime.database.session() as session:
        found = authenticate(session, token, scope=None)  # the scope is checked per request (deps.py)
        session.flush()
        session.expunge(found)
        return found


def token_cache(runtime: Runtime) -> TokenCache:
    """The runtime's cache (one per process), made on first use."""
    cache = runtime.__dict__.get("_token_cache")
    if cache is None:
        cache = runtime.__dict__.setdefault("_token_cache", TokenCache())
    return cache  # type: ignore[no-any-return]
