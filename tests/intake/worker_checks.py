"""What every worker test ends by checking: each item classified, processed and acknowledged once."""

from __future__ import annotations

from sqlalchemy import func, select

from intake.runtime import Runtime
from models import Acknowledgement, ClassificationRun, Item


def assert_each_item_done_once(runtime: Runtime, items: int, *, channel: str = "email") -> None:
    """`items` items, each classified once, processed, and acknowledged once: one letter sent each."""
    with runtime.database.session() as session:
        runs = session.execute(
            select(ClassificationRun.item_id, func.count()).group_by(ClassificationRun.item_id)
        ).all()
        processed = session.scalar(select(func.count()).select_from(Item).where(Item.status == "processed"))
        statuses = sorted(session.scalars(select(Acknowledgement.status)))
    assert len(runs) == items and {count for _, count in runs} == {1}, runs  # classified once each
    assert processed == items
    assert statuses == ["sent"] * items
    assert len(list((runtime.settings.outbox_dir / channel).iterdir())) == items  # sent once each
