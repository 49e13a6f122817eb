"""Workspace search timing on SQLite: the full-text index (migration 0011) against the ILIKE scan it
replaced, on one queue page (rows and count) of N open items of 120 random words each.

    .venv/bin/python bench/search_timing.py 50000      # figures in docs/workspace.md, "Search"
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

import intake.web.queue_view as queue_view
from intake.clock import SYSTEM_CLOCK, install_clock
from intake.db import upgrade_database
from intake.web.queue_view import QueueFilters, queue_page
from models import Item

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TERMS = ("Quested", "philippa quested")


def _ilike_search(term: str) -> ColumnElement[bool]:
    """The search before 0011: ILIKE over five columns of every item and of its follow-ups."""
    pattern = f"%{term}%"

    def matches(table: Any) -> ColumnElement[bool]:
        return or_(*(getattr(table, c).ilike(pattern) for c in ("sender_address", "sender_name", "subject", "body", "reference")))

    follow_up = aliased(Item)
    return or_(matches(Item), Item.id.in_(select(follow_up.case_id).where(follow_up.case_id.is_not(None), matches(follow_up))))


def _best_ms(engine: Any, term: str) -> tuple[float, int]:
    times, total = [], 0
    with Session(engine) as session:
        for _ in range(5):
            started = time.perf_counter()
            total = queue_page(session, QueueFilters(search=term), now=NOW).total
            times.append(time.perf_counter() - started)
    return min(times) * 1000, total


def main(count: int) -> None:
    path = Path(tempfile.mkdtemp()) / "bench.db"
    engine = create_engine(f"sqlite:///{path}")
    install_clock(engine, SYSTEM_CLOCK.now)  # rows' default timestamps come from the engine's clock
    upgrade_database(engine)
    rng = random.Random(1)
    vocabulary = [f"word{n}" for n in range(20_000)]
    rows = [dict(channel="email", external_id=f"x{i}", received_at=NOW - timedelta(minutes=i),
                 subject=" ".join(rng.choices(vocabulary, k=4)), body=" ".join(rng.choices(vocabulary, k=120)),
                 sender_address=f"p{i}@example.com", sender_name="Pat", status="processed", case_status="open",
                 queue="enquiries", headers={}, thread_keys=[], details={}, categories=[], flags=[], hazards=[],
                 explanation={}) for i in range(count)]
    rows[count // 2]["body"] += " Philippa Quested"
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Item), rows)
    print(f"stored {count} items, index kept by the triggers: {time.perf_counter() - started:.1f} s")
    indexed = {term: _best_ms(engine, term) for term in TERMS}
    queue_view._search = _ilike_search  # type: ignore[assignment]  # the old condition, for comparison only
    scanned = {term: _best_ms(engine, term) for term in TERMS}
    for term in TERMS:
        print(f"{term!r}: full-text {indexed[term][0]:.0f} ms ({indexed[term][1]} found), "
              f"ILIKE {scanned[term][0]:.0f} ms ({scanned[term][1]} found)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
