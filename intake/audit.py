"""The append-only audit log: one call per thing that happened."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from intake.privacy.notes import take_free_text
from models import AuditEntry


def record(session: Session, *, actor: str, action: str, item_id: int | None = None, **details: Any) -> None:
    # Words typed about a case go to `case_notes` (erasable); the append-only log keeps their id.
    details = take_free_text(session, actor=actor, action=action, item_id=item_id, details=details)
    session.add(AuditEntry(actor=actor, action=action, item_id=item_id, details=details))
