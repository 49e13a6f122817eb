"""Free text staff write about a case, kept in `audit_texts` instead of the append-only audit log.

`intake.audit.record` turns text a person wrote (a response summary, the reason for an escalation, a
remedy) into a note and keeps the note's id in the audit entry; these helpers read notes back. The
audit log can then never hold a resident's story, so erasure never needs to rewrite it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditText


def note_text(session: Session, reference: Any) -> str | None:
    """The text behind a `{"note_id": n}` detail (None when it is not one)."""
    if isinstance(reference, dict) and "note_id" in reference:
        note = session.get(AuditText, reference["note_id"])
        return note.text if note is not None else None
    return reference if isinstance(reference, str) else None


def notes_for_items(session: Session, item_ids: list[int]) -> list[AuditText]:
    if not item_ids:
        return []
    return list(session.scalars(select(AuditText).where(AuditText.item_id.in_(item_ids)).order_by(AuditText.id)))
