"""Per-address limits on the public form, counted in the audit log so every API process shares them.

Each contact-form post first commits an audit entry `contact_form_post` whose actor is a keyed hash
of the client's address (no address is stored), then counts those entries over the last minute and
hour. Recording before counting means simultaneous posts can only be refused too eagerly, never let
through; the limit holds across processes and restarts, and every attempt stays on the record.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake import audit
from intake.clock import SYSTEM_CLOCK
from intake.settings import Settings
from models import AuditEntry

POST_ACTION = "contact_form_post"


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int = 0


def client_key(settings: Settings, address: str | None) -> str:
    """'web:3f2a…' — the same address always gives the same key; the address cannot be read back."""
    secret = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(secret, f"client:{address or 'unknown'}".encode(), hashlib.sha256).hexdigest()
    return f"web:{digest[:20]}"


def record_post(session: Session, key: str, *, path: str) -> None:
    audit.record(session, actor=key, action=POST_ACTION, path=path)


def check_rate(session: Session, settings: Settings, key: str, *, now: datetime | None = None) -> RateDecision:
    """Whether this post (already recorded by `record_post`) is within the limits."""
    now = now or SYSTEM_CLOCK.now()
    limits = (
        (timedelta(minutes=1), settings.web.submissions_per_minute),
        (timedelta(hours=1), settings.web.submissions_per_hour),
    )
    for window, limit in limits:
        since = now - window
        count = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.actor == key, AuditEntry.action == POST_ACTION, AuditEntry.at > since)
        )
        if (count or 0) > limit:
            return RateDecision(allowed=False, retry_after_seconds=int(window.total_seconds()))
    return RateDecision(allowed=True)
