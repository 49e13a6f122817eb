"""Background jobs: top-level functions that take ids, so rq can run them with its JSON serializer."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from intake import audit
from intake.runtime import Runtime, get_runtime
from models import Acknowledgement, Item

log = logging.getLogger(__name__)


def process_item(item_id: int) -> None:
    """One item's job; inside an rq worker it processes the next queued items with it (intake/batches.py)."""
    from intake.acknowledgements import ReadyToSend, send_planned
    from intake.batches import drop_jobs, gather
    from intake.pipeline import process_items

    runtime = get_runtime()
    along = gather(runtime, item_id)
    if not along:
        process_items(runtime, [item_id])
        return
    dropped = False

    def drop(done: list[int], acknowledgements: list[int], ready: ReadyToSend) -> None:
        """As soon as the batch commits (before any wait for our own item): its items' jobs go, and
        its acknowledgements are sent here at once. Queued one by one, idle workers took each as it
        came, in batches of one or two (148 send jobs for 640 items with 4 processes)."""
        nonlocal dropped
        dropped = True
        drop_jobs(runtime, done)
        send_planned(runtime, acknowledgements, ready)

    try:
        process_items(runtime, [item_id], also=along, on_committed=drop, queue_acknowledgements=False)
    except Exception:  # one bad item must not fail the others: this job's own item, alone
        if dropped:  # the batch went through: what failed was our own item, after it
            raise
        log.warning("batch of %s items failed; processing item %s alone", len(along) + 1, item_id, exc_info=True)
        process_items(runtime, [item_id])


def send_acknowledgement(acknowledgement_id: int) -> None:
    """One acknowledgement's job; inside an rq worker it sends the next queued ones with it."""
    from intake.acknowledgements import send_acknowledgements
    from intake.batches import drop_jobs, take_along

    runtime = get_runtime()
    along = take_along(runtime, acknowledgement_id, acknowledgements=True)
    batch = send_acknowledgements(runtime, [acknowledgement_id], also=along)
    # Taken along and not failed: sent, or recorded as not to be sent (its own job would do no more).
    drop_jobs(runtime, [ack_id for ack_id in batch.taken if ack_id not in batch.failed], acknowledgements=True)
    if batch.held:  # ours was in another worker's batch: waited for now, and found sent (or sent here)
        batch.failed.update(send_acknowledgements(runtime, batch.held).failed)
    if acknowledgement_id in batch.failed:
        raise batch.failed[acknowledgement_id]  # the row says `retry`; rq retries the job after its back-off


def sweep(*, report_facts: bool = True) -> dict[str, int]:
    """Re-queue what is stuck: items never processed, acknowledgements due a retry or never sent.
    Then the daily housekeeping, and (`report_facts`) the reports' daily facts brought up to date.

    Safe to run from any number of processes: every job it queues is idempotent.
    """
    runtime = get_runtime()
    now = runtime.clock.now()
    stuck_before = now - timedelta(seconds=runtime.settings.stuck_after_seconds)
    with runtime.database.session() as session:
        stuck_items = list(
            session.scalars(
                select(Item.id).where(Item.status == "received", Item.updated_at < stuck_before).limit(1000)
            )
        )
        due_acknowledgements = list(
            session.scalars(
                select(Acknowledgement.id)
                .where(
                    or_(
                        and_(Acknowledgement.status == "retry", Acknowledgement.next_attempt_at <= now),
                        and_(
                            Acknowledgement.status == "pending",
                            Acknowledgement.created_at < now - timedelta(seconds=30),
                        ),
                    )
                )
                .limit(1000)
            )
        )
        lost = list(
            session.scalars(
                select(Acknowledgement).where(
                    Acknowledgement.status == "sending", Acknowledgement.sending_started_at < stuck_before
                )
            )
        )
        for acknowledgement in lost:
            session.execute(
                update(Acknowledgement)
                .where(Acknowledgement.id == acknowledgement.id, Acknowledgement.status == "sending")
                .values(status="unknown", last_error="interrupted while sending: check before sending again")
            )
            audit.record(
                session,
                actor="sweep",
                action="acknowledgement_unknown",
                item_id=acknowledgement.item_id,
                acknowledgement_id=acknowledgement.id,
            )
    for item_id in stuck_items:
        runtime.jobs.enqueue_process_item(item_id)
    for acknowledgement_id in due_acknowledgements:
        runtime.jobs.enqueue_acknowledgement(acknowledgement_id)
    counts = {"items": len(stuck_items), "acknowledgements": len(due_acknowledgements), "unknown": len(lost)}
    counts["retention"] = _daily_retention(runtime, now)
    counts["staff_alerts"], counts["stage_responses"] = _replies_and_staff_alerts(runtime)
    # After the steps above, so the responses they record are in the facts too.
    counts["report_days"] = _report_facts(runtime) if report_facts else 0
    if any(counts.values()):
        log.info("sweep re-queued %s", counts)
    return counts


def _daily_retention(runtime: Runtime, now: datetime) -> int:
    """The retention schedule, applied once a day from the sweep (intake/privacy/retention.py)."""
    from intake.privacy.retention import run_daily

    try:
        applied = run_daily(runtime, now=now)
    except Exception:  # the sweep's other work must not stop because retention failed; it retries next time
        log.exception("retention sweep failed")
        return 0
    return applied.items if applied is not None else 0


def _report_facts(runtime: Runtime) -> int:
    """Recompute the reports' daily facts for what changed since (intake/reports/daily_facts.py), so
    a report read seldom has any left to do."""
    from intake.reports.service import refresh_facts

    try:
        return refresh_facts(runtime).days
    except Exception:  # like retention: the sweep's other work goes on, and the next report read refreshes
        log.exception("report facts refresh failed")
        return 0


def _replies_and_staff_alerts(runtime: Runtime) -> tuple[int, int]:
    """Staff alert emails and stage responses met by a sent reply (intake/staff_alerts.py, intake/replies.py)."""
    from intake import replies, staff_alerts

    try:
        alerts = staff_alerts.run(runtime)
        recorded = replies.record_stage_responses(runtime)
    except Exception:  # as retention: the sweep's other work goes on; this is tried again next time
        log.exception("staff alerts or stage responses failed")
        return 0, 0
    return alerts.sent, recorded


def retrain_model(actor: str = "worker") -> dict[str, object]:
    """Train a new model version with every staff correction; promote it only when it is not worse."""
    from intake.learning_loop import retrain

    outcome = retrain(get_runtime(), actor=actor)
    log.info("retrained %s: %s", outcome.version, outcome.decision.reason)
    return {
        "version": outcome.version,
        "promoted": outcome.decision.promote,
        "reason": outcome.decision.reason,
        "trained_corrections": outcome.trained_corrections,
        "fresh_corrections": outcome.fresh_corrections,
    }
