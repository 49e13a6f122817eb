"""Internal notes on a case, and the @mentions in them that notify a colleague.

Notes are for staff only: never sent to the resident, never used to train the model. The audit log
records that a note was added and who was mentioned, not what it says (it may hold personal data).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import audit, notifications
from intake.errors import InvalidMessage
from models import CaseNote, Item, User

MAX_NOTE_LENGTH = 5000
MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{0,118})", re.IGNORECASE)


def mentioned_usernames(session: Session, body: str) -> list[str]:
    """Active colleagues named as @username, each once, in the order written."""
    named: list[str] = []
    for match in MENTION.finditer(body):
        username = match.group(1).rstrip(".").lower()
        if username not in named:
            named.append(username)
    if not named:
        return []
    active = set(session.scalars(select(User.username).where(User.username.in_(named), User.active.is_(True))))
    return [username for username in named if username in active]


def add_note(session: Session, item: Item, *, author: str, body: str, now: datetime) -> CaseNote:
    text = body.strip()
    if not text:
        raise InvalidMessage("write the note before adding it")
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidMessage(f"a note can be at most {MAX_NOTE_LENGTH} characters")
    root_id = item.case_root_id
    note = CaseNote(item_id=root_id, author=author, body=text, created_at=now)
    session.add(note)
    mentioned = [username for username in mentioned_usernames(session, text) if username != author]
    reference = (session.get(Item, root_id) or item).reference or f"item {root_id}"
    for username in mentioned:
        notifications.notify(
            session, username=username, kind="mentioned", item_id=root_id,
            text=f"{author} mentioned you in a note on {reference}", now=now,
        )
    session.flush()
    audit.record(session, actor=author, action="note_added", item_id=root_id, note_id=note.id, mentioned=mentioned)
    return note


def notes_on_case(session: Session, root_id: int) -> list[CaseNote]:
    return list(session.scalars(select(CaseNote).where(CaseNote.item_id == root_id).order_by(CaseNote.id)))
