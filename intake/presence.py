"""Who else has a case open: a soft lock, so two officers do not answer one resident twice.

Nothing is locked: the page says "Aisha is viewing this case" while she has opened it recently.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CasePresence, User

VIEWING_WINDOW = timedelta(minutes=3)


def note_viewing(session: Session, *, item_id: int, username: str, now: datetime) -> None:
    row = session.scalars(
        select(CasePresence).where(CasePresence.item_id == item_id, CasePresence.username == username)
    ).first()
    if row is None:
        session.add(CasePresence(item_id=item_id, username=username, seen_at=now))
    else:
        row.seen_at = now


def others_viewing(session: Session, *, item_id: int, username: str, now: datetime) -> list[str]:
    """Colleagues' names (full name where known) who opened this case within the last few minutes."""
    rows = session.execute(
        select(CasePresence.username, User.full_name)
        .join(User, User.username == CasePresence.username, isouter=True)
        .where(
            CasePresence.item_id == item_id,
            CasePresence.username != username,
            CasePresence.seen_at >= now - VIEWING_WINDOW,
        )
        .order_by(CasePresence.seen_at.desc())
    ).all()
    return [full_name or name for name, full_name in rows]
