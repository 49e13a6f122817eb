"""The append-only audit log: one call per thing that happened."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import AuditEntry


def record(session: Session, *, actor: str, action: str, item_id: int | None = None, **details: Any) -> None:
    session.add(AuditEntry(actor=actor, action=action, item_id=item_id, details=details))
