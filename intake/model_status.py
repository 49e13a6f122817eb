"""What the Model versions page says in words: whether a retraining is running, and what each
measure means to a manager (not "cv type macro f1")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEntry

# The measures a version is judged on, as a manager would say them.
METRIC_WORDS = {
    "held_out_type_macro_f1": "Type right (balanced across the five types)",
    "held_out_queue_accuracy": "Queue right, all messages",
    "held_out_routed_queue_accuracy": "Queue right, messages routed without review",
    "held_out_automation_rate": "Share routed without a person checking",
    "held_out_urgent_safety_recall": "Urgent safety messages caught",
    "held_out_safeguarding_recall": "Safeguarding concerns caught",
    "cv_type_macro_f1": "Type right (balanced, cross-checked on training data)",
    "cv_queue_accuracy": "Queue right (cross-checked on training data)",
    "type_macro_f1": "Type right (balanced across the five types)",
    "queue_accuracy": "Queue right",
    "urgent_safety_recall": "Urgent safety messages caught",
    "safeguarding_recall": "Safeguarding concerns caught",
}


def metric_in_words(key: str) -> str:
    if key in METRIC_WORDS:
        return METRIC_WORDS[key]
    return key.removeprefix("held_out_").removeprefix("cv_").replace("_", " ").capitalize()


@dataclass(frozen=True)
class RetrainStatus:
    running: bool
    started_at: datetime | None
    started_by: str | None
    finished_at: datetime | None
    failed: bool = False


def retrain_status(session: Session) -> RetrainStatus:
    """From the audit log: the last retraining asked for, and whether a version was evaluated since."""
    scheduled = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retrain_scheduled").order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    if scheduled is None:
        return RetrainStatus(False, None, None, None)
    finished = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(("model_evaluated", "retrain_failed")), AuditEntry.id > scheduled.id)
        .order_by(AuditEntry.id)
        .limit(1)
    ).first()
    return RetrainStatus(
        running=finished is None,
        started_at=scheduled.at,
        started_by=scheduled.actor,
        finished_at=finished.at if finished else None,
        failed=finished is not None and finished.action == "retrain_failed",
    )
