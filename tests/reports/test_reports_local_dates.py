"""london_date() in SQL agrees with Python's zoneinfo on both databases, around the clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from intake.reports.local_dates import london_date
from models import Item

LONDON = ZoneInfo("Europe/London")
MOMENTS = [
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # GMT still: 29 March
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # BST from here
    datetime(2026, 6, 30, 22, 59, tzinfo=UTC),  # 23:59 BST on 30 June
    datetime(2026, 6, 30, 23, 0, tzinfo=UTC),  # 00:00 BST on 1 July
    datetime(2026, 10, 24, 23, 30, tzinfo=UTC),  # 00:30 BST on 25 October
    datetime(2026, 10, 25, 0, 59, tzinfo=UTC),  # 01:59 BST
    datetime(2026, 10, 25, 23, 30, tzinfo=UTC),  # GMT again: 25 October
    datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # 2027's last Sunday of March, before the change
    datetime(2027, 3, 28, 23, 30, tzinfo=UTC),  # after it: 00:30 BST on 29 March
    datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
]


def test_london_dates_match_zoneinfo(report_runtime) -> None:  # type: ignore[no-untyped-def]
    with report_runtime.database.session() as session:
        for number, moment in enumerate(MOMENTS):
            session.add(Item(channel="email", external_id=f"m{number}", received_at=moment, body=""))
        session.flush()
        rows = session.execute(select(Item.received_at, london_date(Item.received_at))).all()
    assert len(rows) == len(MOMENTS)
    for stored, local_day in rows:
        assert local_day == stored.astimezone(LONDON).date(), stored


def test_every_hour_of_a_year_matches(report_runtime) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with report_runtime.database.session() as session:
        for hour in range(0, 366 * 24, 7):
            session.add(
                Item(
                    channel="sms", external_id=f"h{hour}", received_at=start + timedelta(hours=hour), body=""
                )
            )
        session.flush()
        rows = session.execute(select(Item.received_at, london_date(Item.received_at))).all()
    mismatches = [stored for stored, day in rows if day != stored.astimezone(LONDON).date()]
    assert mismatches == []
