"""Free text staff write about a case, kept in `case_notes` instead of the append-only audit log.

`intake.audit.record` hands its details here first: text a person wrote (a response summary, the
reason for an escalation, a remedy) becomes a note, and the audit entry keeps the note's id. The
audit log can then never hold a resident's story, so erasure never needs to rewrite it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CaseNote

# Detail keys that carry words a person typed about a case.
FREE_TEXT_KEYS = ("summary", "reason", "remedy", "note")


def take_free_text(
    session: Session, *, actor: str, action: str, item_id: int | None, details: dict[str, Any]
) -> dict[str, Any]:
    """The details with each free-text value about an item replaced by the id of a note holding it."""
    if item_id is None:
        return details  # system events (sign-ins, refusals, model decisions): their reasons are ours
    kept = dict(details)
    for key in FREE_TEXT_KEYS:
        value = kept.get(key)
        if isinstance(value, str) and value.strip():
            note = CaseNote(item_id=item_id, action=action, field=key, author=actor, text=value)
            session.add(note)
            session.flush()
            kept[key] = {"note_id": note.id}
    return kept


def note_text(session: Session, reference: Any) -> str | None:
    """The text behind a `{"note_id": n}` detail (None when it is not one)."""
    if isinstance(reference, dict) and "note_id" in reference:
        note = session.get(CaseNote, reference["note_id"])
        return note.text if note is not None else None
    return reference if isinstance(reference, str) else None


def notes_for_items(session: Session, item_ids: list[int]) -> list[CaseNote]:
    if not item_ids:
        return []
    return list(session.scalars(select(CaseNote).where(CaseNote.item_id.in_(item_ids)).order_by(CaseNote.id)))
