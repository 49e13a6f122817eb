"""API tokens for integrations: shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import audit
from intake.clock import SYSTEM_CLOCK, Clock
from intake.errors import InvalidMessage, NotAuthorised
from models import ApiToken

TOKEN_PREFIX = "itk_"


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, *, created_by: str = "cli") -> str:
    if not name.strip():
        raise InvalidMessage("a token needs a name that says which system uses it")
    if session.scalars(select(ApiToken).where(ApiToken.name == name)).first():
        raise InvalidMessage(f"a token named {name!r} already exists; revoke it or pick another name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(token), created_by=created_by))
    audit.record(session, actor=created_by, action="api_token_created", token_name=name)
    return token


def revoke_token(session: Session, name: str, *, actor: str, clock: Clock = SYSTEM_CLOCK) -> None:
    token = session.scalars(select(ApiToken).where(ApiToken.name == name)).first()
    if token is None:
        raise InvalidMessage(f"no token named {name!r}")
    token.revoked_at = clock.now()
    audit.record(session, actor=actor, action="api_token_revoked", token_name=name)


def authenticate(session: Session, token: str | None) -> ApiToken:
    if not token:
        raise NotAuthorised("send an API token as 'Authorization: Bearer <token>'")
    found = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if found is None or found.revoked_at is not None:
        raise NotAuthorised("the API token is not valid")
    return found
