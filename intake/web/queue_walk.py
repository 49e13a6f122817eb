"""Working through a list: remember which queue view an item was opened from, go back to it, and
open the next case in it after a correction ("save and next")."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.orm import Session

from intake.web.queue_view import ALL, QueueFilters, queue_rows

QUEUES_PATH = "/staff/queues"
MAX_FROM_LENGTH = 1000


def came_from(value: str | None) -> str | None:
    """A queue view's own path and query, or None: never another site or another kind of page."""
    if not value or len(value) > MAX_FROM_LENGTH or any(ch in value for ch in "\\\r\n"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return None
    if parts.path != QUEUES_PATH and not parts.path.startswith(QUEUES_PATH + "/"):
        return None
    if parts.path.endswith(".csv"):
        return None
    return value


def _filters_of(view: str) -> QueueFilters:
    parts = urlsplit(view)
    queue = parts.path[len(QUEUES_PATH) :].strip("/") or ALL
    return QueueFilters.from_query(queue, dict(parse_qsl(parts.query)))


def next_case_in(
    session: Session, view: str, *, current_id: int, now: datetime, username: str
) -> int | None:
    """The case after `current_id` in that view as it is now; the first one when the current case has
    left the view (a correction usually moves it), so the officer keeps working from the top."""
    filters = _filters_of(view)
    ids = [item.id for item in queue_rows(session, filters, now=now, username=username, limit=5000)]
    if current_id in ids:
        position = ids.index(current_id)
        return ids[position + 1] if position + 1 < len(ids) else None
    return ids[0] if ids else None
