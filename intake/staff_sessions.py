"""Server-side staff sessions: each sign-in is a row, found by a hash of the random token in the
browser's cookie. A session ends for good when its row is revoked — on signing out, a password
change, deactivation or an admin's "sign out everywhere" — or when it expires; a copied cookie is
worth nothing after that.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.clock import session_now
from models import StaffSession, User

SESSION_LIFETIME = timedelta(hours=10)  # one working day; then sign in again


def _hash(token: str) -> str:
    # 256 random bits: a fast hash is enough, and a stolen table yields no usable cookie.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user_id: int, *, now: datetime | None = None) -> str:
    """A new session for the user; the token (for the cookie) is returned once and never stored."""
    now = now or session_now(session)
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(token_hash=_hash(token), user_id=user_id, created_at=now, expires_at=now + SESSION_LIFETIME)
    )
    session.flush()
    return token


def session_user(session: Session, token: str | None, *, now: datetime | None = None) -> User | None:
    """The active user of a live session, or None (unknown, revoked, expired, or user deactivated)."""
    if not token or len(token) > 200:
        return None
    now = now or session_now(session)
    return session.scalars(
        select(User)
        .join(StaffSession, StaffSession.user_id == User.id)
        .where(
            StaffSession.token_hash == _hash(token),
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
            User.active.is_(True),
        )
    ).first()


def end_session(session: Session, token: str | None, *, reason: str = "signed_out") -> None:
    if token:
        session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _hash(token), StaffSession.revoked_at.is_(None))
            .values(revoked_at=session_now(session), revoked_reason=reason)
        )


def end_all_sessions(session: Session, user_id: int, *, reason: str) -> int:
    """Revoke every live session of a user; how many there were."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=session_now(session), revoked_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
