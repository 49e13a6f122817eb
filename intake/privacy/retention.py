"""The retention schedule (settings.privacy.retention): which cases have been kept long enough.

A case (its root and every follow-up) goes when its root matches a rule and the rule's period has
passed since closure or receipt. Never while a complaint is open or a legal hold is set, and never
twice. The dry run and `apply` share one `plan`, so what a dry run lists is exactly what goes.
Applying also trims the access trail and old request records to their own periods.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from intake import audit
from intake.privacy import erasure
from intake.runtime import Runtime
from intake.settings import RetentionRule
from models import AccessLogEntry, AuditEntry, Item, PrivacyRequest

SWEEP_ACTION = "retention_applied"


@dataclass(frozen=True)
class Expired:
    root_id: int
    reference: str | None
    rule: str
    expired_at: datetime
    item_ids: tuple[int, ...]


def _matches(rule: RetentionRule, item: Item) -> bool:
    item_type = item.type or "untriaged"
    return item_type in rule.types or (item.queue is not None and item.queue in rule.queues)


def _clock_start(rule: RetentionRule, item: Item) -> datetime | None:
    if rule.counted_from == "received":
        return item.received_at
    return item.closed_at if item.case_status == "closed" else None


def _expires(rule: RetentionRule, start: datetime) -> datetime:
    expires: datetime = start + relativedelta(years=rule.years, days=rule.days)  # dateutil is untyped
    return expires


def plan(runtime: Runtime, session: Session, *, now: datetime) -> list[Expired]:
    """Every case whose retention period has passed, oldest first."""
    rules = runtime.settings.privacy.retention
    roots = session.scalars(
        select(Item).where(Item.case_id.is_(None), Item.erased_at.is_(None), Item.legal_hold.is_(None)).order_by(Item.id)
    )
    expired: list[Expired] = []
    for root in roots:
        if root.type == "complaint" and root.case_status == "open":
            continue
        rule = next((r for r in rules if _matches(r, root)), None)
        if rule is None:
            continue
        start = _clock_start(rule, root)
        if start is None or _expires(rule, start) > now:
            continue
        members = session.scalars(
            select(Item.id).where(or_(Item.id == root.id, Item.case_id == root.id), Item.erased_at.is_(None))
        )
        expired.append(Expired(root.id, root.reference, rule.name, _expires(rule, start), tuple(sorted(members))))
    return sorted(expired, key=lambda e: (e.expired_at, e.root_id))


@dataclass
class RetentionRun:
    expired: list[Expired]
    applied: bool
    by_rule: dict[str, int]
    items: int
    access_entries_removed: int = 0
    requests_removed: int = 0


def run(runtime: Runtime, *, now: datetime, apply: bool, actor: str = "retention") -> RetentionRun:
    with runtime.database.session() as session:
        expired = plan(runtime, session, now=now)
        by_rule = dict(Counter(e.rule for e in expired))
        result = RetentionRun(expired, apply, by_rule, sum(len(e.item_ids) for e in expired))
        if not apply:
            return result
        item_ids = [i for e in expired for i in e.item_ids]
        counts = erasure.anonymise_items(runtime, session, item_ids, now=now)
        settings = runtime.settings.privacy
        trimmed = session.execute(
            delete(AccessLogEntry).where(AccessLogEntry.at < now - relativedelta(years=settings.access_log_years))
        )
        result.access_entries_removed = int(getattr(trimmed, "rowcount", 0) or 0)
        old_requests = session.execute(
            delete(PrivacyRequest).where(
                PrivacyRequest.status != "open",
                PrivacyRequest.received_at < now - relativedelta(years=settings.request_log_years),
            )
        )
        result.requests_removed = int(getattr(old_requests, "rowcount", 0) or 0)
        audit.record(
            session, actor=actor, action=SWEEP_ACTION, cases=len(expired), items=counts.items,
            by_rule=by_rule, raw_messages=counts.raw_messages, attachments=counts.attachments,
            acknowledgements=counts.acknowledgements, access_entries_removed=result.access_entries_removed,
            requests_removed=result.requests_removed, retrain_needed=counts.retrain_needed,
        )
    if result.items:
        erasure.compact_storage(runtime, erasure.ERASED_TABLES)
    return result


def run_daily(runtime: Runtime, *, now: datetime) -> RetentionRun | None:
    """The sweep's hook: apply the schedule when it has not been applied in the last day."""
    if not runtime.settings.privacy.retention_in_sweep:
        return None
    with runtime.database.session() as session:
        last = session.scalar(
            select(AuditEntry.at).where(AuditEntry.action == SWEEP_ACTION).order_by(AuditEntry.at.desc()).limit(1)
        )
    if last is not None and now - last < timedelta(days=1):
        return None
    return run(runtime, now=now, apply=True, actor="sweep")
