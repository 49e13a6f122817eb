"""Retention: the schedule in settings decides which cases are anonymised; dry run and apply agree."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from intake import jobs
from intake.privacy import retention, service
from intake.runtime import Runtime
from models import AccessLogEntry, AuditEntry, Item

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def _item(runtime: Runtime, tag: str, *, type: str | None, received: datetime, closed: datetime | None = None,  # noqa: A002
          queue: str | None = None, case_id: int | None = None) -> int:
    with runtime.database.session() as session:
        item = Item(channel="email", external_id=f"<{tag}@example.com>", received_at=received, body=f"text {tag}",
                    sender_address=f"{tag}@example.com", type=type, queue=queue, status="processed",
                    case_status="closed" if closed else "open", closed_at=closed, case_id=case_id, reference=tag)
        session.add(item)
        session.flush()
        return item.id


def _cases(runtime: Runtime) -> dict[str, int]:
    day = lambda y, m, d: datetime(y, m, d, 9, tzinfo=UTC)  # noqa: E731
    ids = {
        "old-complaint": _item(runtime, "old-complaint", type="complaint", received=day(2019, 3, 1), closed=day(2020, 7, 1)),
        "recent-complaint": _item(runtime, "recent-complaint", type="complaint", received=day(2021, 1, 4), closed=day(2021, 3, 1)),
        "open-complaint": _item(runtime, "open-complaint", type="complaint", received=day(2015, 1, 5)),
        "held-complaint": _item(runtime, "held-complaint", type="complaint", received=day(2018, 1, 5), closed=day(2018, 6, 1)),
        "old-enquiry": _item(runtime, "old-enquiry", type="enquiry", received=day(2024, 7, 31)),
        "new-enquiry": _item(runtime, "new-enquiry", type="enquiry", received=day(2024, 8, 2)),
        "junk": _item(runtime, "junk", type=None, received=day(2026, 6, 30), closed=day(2026, 6, 30), queue="not_for_triage"),
        "fresh-junk": _item(runtime, "fresh-junk", type=None, received=day(2026, 7, 20), closed=day(2026, 7, 20)),
    }
    ids["old-follow-up"] = _item(runtime, "old-follow-up", type="complaint", received=day(2020, 6, 1),
                                 case_id=ids["old-complaint"])
    service.set_legal_hold(runtime, ids["held-complaint"], actor="dpo", reason="disrepair claim")
    return ids


def test_dry_run_lists_exactly_what_apply_anonymises(runtime: Runtime) -> None:
    ids = _cases(runtime)
    dry = retention.run(runtime, now=NOW, apply=False)
    expected = {"old-complaint", "old-enquiry", "junk"}
    assert {e.reference for e in dry.expired} == expected
    assert dry.by_rule == {"complaints": 1, "enquiries and compliments": 1, "junk": 1}
    with runtime.database.session() as session:
        assert session.scalars(select(Item).where(Item.erased_at.is_not(None))).all() == []  # a dry run changes nothing

    applied = retention.run(runtime, now=NOW, apply=True)
    assert [(e.root_id, e.item_ids) for e in applied.expired] == [(e.root_id, e.item_ids) for e in dry.expired]
    with runtime.database.session() as session:
        erased = {item.reference for item in session.scalars(select(Item).where(Item.erased_at == NOW))}
        assert erased == expected | {"old-follow-up"}
        kept = session.get(Item, ids["recent-complaint"])
        assert kept is not None and kept.body == "text recent-complaint"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention_applied")).one()
        assert (entry.details["cases"], entry.details["items"], entry.details["by_rule"]) == (3, 4, dry.by_rule)
    assert retention.run(runtime, now=NOW, apply=False).expired == []  # never twice


def test_the_access_trail_is_kept_only_for_its_own_period(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        session.add_all([AccessLogEntry(at=datetime(2024, 7, 1, tzinfo=UTC), actor="sam", action="search", details={}),
                         AccessLogEntry(at=datetime(2025, 7, 1, tzinfo=UTC), actor="sam", action="search", details={})])
    assert retention.run(runtime, now=NOW, apply=True).access_entries_removed == 1


def test_the_worker_sweep_applies_the_schedule_once_a_day(runtime: Runtime) -> None:
    _cases(runtime)
    # The sweep reads the wall clock: what is due depends on today, so ask the dry run first.
    due_now = retention.run(runtime, now=datetime.now(UTC), apply=False).items
    assert due_now >= 4
    assert jobs.sweep()["retention"] == due_now
    assert jobs.sweep()["retention"] == 0
    with runtime.database.session() as session:
        runs = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention_applied")).all()
        assert [run.actor for run in runs] == ["sweep"]
