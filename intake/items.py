"""Reading items back: by reference, with their case, deadlines and acknowledgements."""

from __future__ import annotations

import hashlib

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake import cases
from intake.errors import NotFound
from intake.references import parse_reference
from intake.runtime import Runtime
from models import Item, RawMessage

MAX_ROW_ID = 2**63 - 1


def get_item_by_reference(session: Session, reference: str) -> Item:
    parsed = parse_reference(reference)
    if parsed is None:
        raise NotFound(f"{reference!r} is not a reference (expected e.g. CMP-2026-000123)")
    year, item_id = parsed
    if item_id > MAX_ROW_ID:  # a number no database id can be: the driver would refuse it with an error
        raise NotFound(f"no item {reference}")
    item = session.get(Item, item_id)
    # A restricted item (intake/privacy) is shown to staff admins only, never to an integration.
    if item is None or item.received_at.year != year or item.restricted_at is not None:
        raise NotFound(f"no item {reference}")
    return item


def case_items(session: Session, root_id: int) -> list[Item]:
    return list(
        session.scalars(
            select(Item).where(or_(Item.id == root_id, Item.case_id == root_id)).order_by(Item.received_at)
        )
    )


def keep_rejected_payload(
    session: Session, *, channel: str, content: bytes, content_type: str, reason: str
) -> int:
    """A payload refused at the door is still kept, with why it was refused."""
    raw = RawMessage(
        item_id=None,
        channel=channel,
        content_type=content_type[:128],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        rejected_reason=reason[:2000],
    )
    session.add(raw)
    session.flush()
    return raw.id


def find_item_by_external_id(session: Session, *, channel: str, external_id: str) -> Item | None:
    """The item a channel delivered under its own id (e.g. a contact form's submission token), if any."""
    return session.scalars(select(Item).where(Item.channel == channel, Item.external_id == external_id)).first()


def queue_pending_acknowledgements(runtime: Runtime, item_id: int) -> None:
    """Send now, not at the next sweep, what a staff action planned (complaint, next stage) for the case."""
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        if item is None:
            return
        pending = cases.pending_acknowledgement_ids(session, item.case_root_id)
    for acknowledgement_id in pending:
        runtime.jobs.enqueue_acknowledgement(acknowledgement_id)
