"""Staff corrections as training data: a correction outweighs the seed label of a similar item."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from intake.runtime import Runtime
from models import Correction, Item

# How much one staff correction counts against one seed example.
CORRECTION_WEIGHT = 3.0


def corrections_as_examples(runtime: Runtime, *, since_id: int | None = None) -> list[Any]:
    """The latest correction of each corrected item, as a weighted LabelledExample."""
    from classifier import LabelledExample

    try:
        with runtime.database.session() as session:
            query = select(Correction, Item).join(Item, Item.id == Correction.item_id).order_by(Correction.id)
            if since_id is not None:
                query = query.where(Correction.id > since_id)
            latest: dict[int, tuple[Correction, Item]] = {}
            for correction, item in session.execute(query):
                latest[item.id] = (correction, item)
    except Exception:  # no database yet (a fresh install training its first model)
        return []
    examples = []
    for correction, item in latest.values():
        after = correction.after
        examples.append(
            LabelledExample(
                id=f"correction-{correction.id}",
                channel=item.channel,
                sender=item.sender_address or "",
                sender_name=item.sender_name or "",
                subject=item.subject or "",
                body=item.body,
                type=after.get("type") or item.type or "enquiry",
                categories=list(after.get("categories", item.categories)),
                flags=list(after.get("flags", item.flags)),
                queue=after.get("queue") or item.queue or "",
                weight=CORRECTION_WEIGHT,
            )
        )
    return examples
