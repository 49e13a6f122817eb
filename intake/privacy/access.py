"""The access trail: who viewed which item, raw message or attachment, who searched and who exported.

Written by the staff views (one entry per view) and read by admins per item and per person. A search
keeps a fingerprint of its words and the ids it found, never the words: a search for a name would
otherwise copy the name into the trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake.privacy.identity import fingerprint
from intake.settings import Settings
from models import AccessLogEntry

VIEW_ITEM = "view_item"
VIEW_RAW = "view_raw"
VIEW_ATTACHMENT = "view_attachment"
SEARCH = "search"
EXPORT = "export"


def record_view(
    session: Session, *, actor: str, action: str, item_id: int, target: str | None = None, now: datetime | None = None
) -> None:
    entry = AccessLogEntry(actor=actor, action=action, item_id=item_id, target=target, details={})
    if now is not None:
        entry.at = now
    session.add(entry)


def record_search(
    session: Session, settings: Settings, *, actor: str, term: str, found: Iterable[int], now: datetime | None = None
) -> None:
    entry = AccessLogEntry(
        actor=actor,
        action=SEARCH,
        item_id=None,
        details={"term_fingerprint": fingerprint(settings, term)[:24], "found": sorted(set(found))},
    )
    if now is not None:
        entry.at = now
    session.add(entry)


def record_export(
    session: Session, *, actor: str, request_id: int, item_ids: Iterable[int], now: datetime | None = None
) -> None:
    entry = AccessLogEntry(
        actor=actor, action=EXPORT, item_id=None, target=f"request:{request_id}", details={"found": sorted(set(item_ids))}
    )
    if now is not None:
        entry.at = now
    session.add(entry)


def trail_for_items(session: Session, item_ids: Iterable[int], *, limit: int = 1000) -> list[AccessLogEntry]:
    """Every entry about any of these items: direct views, and searches and exports that found them."""
    wanted = set(item_ids)
    if not wanted:
        return []
    direct = list(
        session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.item_id.in_(wanted)).order_by(AccessLogEntry.at.desc()).limit(limit)
        )
    )
    # Searches and exports list what they found in JSON; read them and keep those that found one of these.
    listed = [
        entry
        for entry in session.scalars(
            select(AccessLogEntry).where(or_(AccessLogEntry.action == SEARCH, AccessLogEntry.action == EXPORT))
        )
        if wanted & set(_found(entry.details))
    ]
    return sorted(direct + listed, key=lambda entry: (entry.at, entry.id), reverse=True)[:limit]


def _found(details: dict[str, Any] | None) -> list[int]:
    return [int(i) for i in (details or {}).get("found", [])]
