"""API tokens for integrations: shown once, stored as a SHA-256 hash, each limited to its scopes.

Scopes (docs/api.md and docs/security.md say what each one sees):
- `items:write` — post items and transcripts; the answer names only the item just posted. The default.
- `items:read`  — read any item back by its reference, with its labels, case and acknowledgements.
  Granted only when asked for: a token for a system that only sends messages never reads residents'
  other messages by guessing references.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import audit
from intake.clock import Clock, session_now
from intake.errors import Forbidden, InvalidMessage, NotAuthorised
from models import ApiToken

TOKEN_PREFIX = "itk_"
WRITE_ITEMS = "items:write"
READ_ITEMS = "items:read"
SCOPES = (WRITE_ITEMS, READ_ITEMS)
DEFAULT_SCOPES = (WRITE_ITEMS,)
# last_used_at is written at most this often per token, so a busy integration does not turn every
# request into an extra write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def checked_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes in a stable order, or InvalidMessage naming an unknown one."""
    wanted = {scope.strip() for scope in scopes if scope.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise InvalidMessage(f"unknown scope {unknown[0]!r}; expected one of {', '.join(SCOPES)}")
    if not wanted:
        raise InvalidMessage(f"a token needs at least one scope ({', '.join(SCOPES)})")
    return tuple(scope for scope in SCOPES if scope in wanted)


def token_scopes(token: ApiToken) -> tuple[str, ...]:
    return tuple((token.scopes or "").split())


def create_token(
    session: Session, name: str, *, created_by: str = "cli", scopes: Iterable[str] = DEFAULT_SCOPES
) -> str:
    if not name.strip():
        raise InvalidMessage("a token needs a name that says which system uses it")
    granted = checked_scopes(scopes)
    if session.scalars(select(ApiToken).where(ApiToken.name == name)).first():
        raise InvalidMessage(f"a token named {name!r} already exists; revoke it or pick another name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(token), created_by=created_by, scopes=" ".join(granted)))
    audit.record(session, actor=created_by, action="api_token_created", token_name=name, scopes=list(granted))
    return token


def revoke_token(session: Session, name: str, *, actor: str, clock: Clock | None = None) -> None:
    token = session.scalars(select(ApiToken).where(ApiToken.name == name)).first()
    if token is None:
        raise InvalidMessage(f"no token named {name!r}")
    token.revoked_at = clock.now() if clock is not None else session_now(session)
    audit.record(session, actor=actor, action="api_token_revoked", token_name=name)


def require_scope(token: ApiToken, scope: str) -> None:
    if scope not in token_scopes(token):
        raise Forbidden(f"this API token does not have the {scope} scope")


def authenticate(
    session: Session, token: str | None, *, scope: str | None = WRITE_ITEMS, now: datetime | None = None
) -> ApiToken:
    """The token's row when it is valid (and holds `scope`, unless None); its last use is recorded."""
    if not token:
        raise NotAuthorised("send an API token as 'Authorization: Bearer <token>'")
    found = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if found is None or found.revoked_at is not None:
        raise NotAuthorised("the API token is not valid")
    if scope is not None:
        require_scope(found, scope)
    now = now or session_now(session)  # the runtime's clock
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
        found.last_used_at = now
    return found
