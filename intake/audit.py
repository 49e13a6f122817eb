"""The append-only audit log: one call per thing that happened.

Words a person typed about a case (a response summary, the reason for an escalation, a remedy) are
not written here: they go to `audit_texts`, which erasure can replace, and the entry keeps
`{"note_id": n}` (see docs/privacy.md). The log then never holds a resident's story.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import AuditEntry, AuditText

# Detail keys that carry words a person typed about a case.
FREE_TEXT_KEYS = ("summary", "reason", "remedy", "note")


def record(session: Session, *, actor: str, action: str, item_id: int | None = None, **details: Any) -> None:
    details = _take_free_text(session, actor=actor, action=action, item_id=item_id, details=details)
    session.add(AuditEntry(actor=actor, action=action, item_id=item_id, details=details))


def _take_free_text(
    session: Session, *, actor: str, action: str, item_id: int | None, details: dict[str, Any]
) -> dict[str, Any]:
    """The details with each free-text value about an item replaced by the id of a note holding it."""
    if item_id is None:
        return details  # system events (sign-ins, refusals, model decisions): their reasons are ours
    kept = dict(details)
    for key in FREE_TEXT_KEYS:
        value = kept.get(key)
        if isinstance(value, str) and value.strip():
            note = AuditText(item_id=item_id, action=action, field=key, author=actor, text=value)
            session.add(note)
            session.flush()
            kept[key] = {"note_id": note.id}
    return kept
