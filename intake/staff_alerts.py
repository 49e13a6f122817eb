"""Alert emails to staff who asked for them: an emergency or safeguarding case has arrived, or a
deadline is about to be missed (due before the end of the next working day, or just passed).

Run from the periodic sweep (`intake.jobs.sweep`), reading `runtime.clock`. Each alert is one
`StaffAlertEmail` row whose `key` (kind, case or deadline, username) is unique, so however often the
job runs, and from however many processes, one alert is emailed once: pending -> sending -> sent;
a temporary failure is retried on the next runs; a send interrupted by a crash is left `unknown`
(never re-sent blindly), as acknowledgements are.

The email names the case reference and links to it — nothing else about the resident or their
message, since staff mailboxes are forwarded, synced to phones and read over shoulders.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.base import (
    AcknowledgementSender,
    OutboundAcknowledgement,
    PermanentSendError,
    TemporarySendError,
    UncertainSendError,
)
from channels.outbox import OutboxSender
from intake import audit, deadlines
from intake.acknowledgements import MAX_SEND_ATTEMPTS
from intake.notifications import URGENT_QUEUES
from intake.runtime import Runtime
from models import Deadline, Item, StaffAlertEmail, StaffAlertSetting, User
from triage_rules.acknowledgement_wording import moment_in_words
from triage_rules.working_days import end_of_day, london_date

log = logging.getLogger(__name__)

# An arrival older than this when the job first sees it is not emailed (say, just after opting in).
ARRIVAL_WINDOW = timedelta(hours=24)
# A deadline that passed longer ago than this is an overdue case, not one "about to be missed".
JUST_MISSED = timedelta(days=1)
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class AlertRun:
    planned: int
    sent: int
    failed: int
    unknown: int


def valid_email(value: str) -> bool:
    return bool(EMAIL_PATTERN.fullmatch(value)) and len(value) <= 320


def setting_for(session: Session, username: str) -> StaffAlertSetting | None:
    return session.scalars(select(StaffAlertSetting).where(StaffAlertSetting.username == username)).first()


def save_setting(
    session: Session, *, username: str, email: str, urgent_arrivals: bool, deadlines_due: bool, now: datetime
) -> StaffAlertSetting:
    """One member of staff's own choice (audited; the address is theirs, at work, and not logged)."""
    email = email.strip()
    if (urgent_arrivals or deadlines_due or email) and not valid_email(email):
        raise ValueError("Enter your work email address, like name@example.org")
    setting = setting_for(session, username)
    if setting is None:
        setting = StaffAlertSetting(username=username)
        session.add(setting)
    setting.email = email
    setting.urgent_arrivals = urgent_arrivals
    setting.deadlines = deadlines_due
    setting.updated_at = now
    audit.record(
        session,
        actor=username,
        action="staff_alert_settings_changed",
        urgent_arrivals=urgent_arrivals,
        deadlines=deadlines_due,
    )
    return setting


def run(runtime: Runtime) -> AlertRun:
    """Plan the alerts due now and send every one not yet sent."""
    now = runtime.clock.now()
    unknown = _mark_interrupted(runtime, now)
    planned = plan(runtime, now=now)
    sent = failed = 0
    with runtime.database.session() as session:
        due = list(
            session.scalars(
                select(StaffAlertEmail.id).where(StaffAlertEmail.status.in_(("pending", "retry")))
            )
        )
    for alert_id in due:
        status = send(runtime, alert_id)
        sent += status == "sent"
        failed += status == "failed"
        unknown += status == "unknown"
    return AlertRun(planned=planned, sent=sent, failed=failed, unknown=unknown)


# --- deciding who is told what -------------------------------------------------------------


def plan(runtime: Runtime, *, now: datetime) -> int:
    """Write one pending row per alert due now that has no row yet. Returns how many were written."""
    base = runtime.settings.public_base_url.rstrip("/")
    written = 0
    with runtime.database.session() as session:
        active = {user.username: user for user in session.scalars(select(User).where(User.active.is_(True)))}
        settings = [s for s in session.scalars(select(StaffAlertSetting)) if s.username in active and s.email]
        wanted: list[tuple[str, StaffAlertSetting, Item, str, str, int | None]] = []
        urgent_readers = [s for s in settings if s.urgent_arrivals]
        if urgent_readers:
            for item in _urgent_arrivals(session, now):
                subject = f"[{item.reference}] Urgent case arrived"
                body = (
                    f"An emergency or safeguarding case has arrived and nobody is assigned to it yet: "
                    f"{item.reference}.\n\nOpen it: {base}/staff/items/{item.id}\n"
                )
                wanted += [
                    (f"urgent:{item.id}:{s.username}", s, item, subject, body, None) for s in urgent_readers
                ]
        deadline_readers = {s.username: s for s in settings if s.deadlines}
        if deadline_readers:
            horizon = end_of_day(runtime.calendar.next_working_day(london_date(now)))
            for deadline, item in _deadlines_due(session, now=now, horizon=horizon):
                readers = (
                    [deadline_readers[item.assigned_to]]
                    if item.assigned_to in deadline_readers
                    else []
                    if item.assigned_to
                    else [
                        s
                        for s in deadline_readers.values()
                        if active[s.username].role in ("manager", "admin")
                    ]
                )
                passed = deadline.due_at <= now
                what = deadline.kind.replace("_", " ")
                subject = f"[{item.reference}] Deadline {'missed' if passed else 'due soon'}: {what}"
                body = (
                    f"Case {item.reference}: the '{what}' deadline "
                    f"{'passed at' if passed else 'is due by'} {moment_in_words(deadline.due_at)}.\n\n"
                    f"Open it: {base}/staff/items/{item.id}\n"
                )
                wanted += [
                    (f"deadline:{deadline.id}:{s.username}", s, item, subject, body, deadline.id)
                    for s in readers
                ]
        existing = (
            set(
                session.scalars(
                    select(StaffAlertEmail.key).where(StaffAlertEmail.key.in_([w[0] for w in wanted]))
                )
            )
            if wanted
            else set()
        )
        for key, setting, item, subject, body, deadline_id in wanted:
            if key in existing:
                continue
            try:
                with session.begin_nested():  # another process may write the same key first: that one stands
                    session.add(
                        StaffAlertEmail(
                            key=key,
                            username=setting.username,
                            kind=key.partition(":")[0],
                            item_id=item.id,
                            recipient=setting.email,
                            subject=subject,
                            body_text=body,
                            status="pending",
                            details={"deadline_id": deadline_id} if deadline_id else {},
                            created_at=now,
                        )
                    )
                written += 1
            except IntegrityError:
                continue
    return written


def _urgent_arrivals(session: Session, now: datetime) -> list[Item]:
    flags = cast(Item.flags, String)
    return list(
        session.scalars(
            select(Item)
            .where(
                Item.case_id.is_(None),
                Item.status == "processed",
                Item.case_status == "open",
                Item.assigned_to.is_(None),
                Item.received_at >= now - ARRIVAL_WINDOW,
                or_(
                    Item.queue.in_(URGENT_QUEUES),
                    flags.like('%"urgent_safety"%'),
                    flags.like('%"safeguarding"%'),
                ),
            )
            .order_by(Item.received_at)
            .limit(500)
        )
    )


def _deadlines_due(session: Session, *, now: datetime, horizon: datetime) -> list[tuple[Deadline, Item]]:
    rows = session.execute(
        select(Deadline, Item)
        .join(Item, Item.id == Deadline.item_id)
        .where(
            Item.case_id.is_(None),
            Item.case_status == "open",
            Deadline.met_at.is_(None),
            Deadline.superseded_at.is_(None),
            Deadline.kind.not_in(deadlines.NOT_OVERDUE_KINDS),
            Deadline.due_at <= horizon,
            Deadline.due_at > now - JUST_MISSED,
        )
        .order_by(Deadline.due_at)
        .limit(1000)
    ).all()
    return [(deadline, item) for deadline, item in rows]


# --- sending -------------------------------------------------------------------------------


def _mark_interrupted(runtime: Runtime, now: datetime) -> int:
    """A row still `sending` long after it started was cut off mid-send: a person checks it."""
    stuck_before = now - timedelta(seconds=runtime.settings.stuck_after_seconds)
    with runtime.database.session() as session:
        result = session.execute(
            update(StaffAlertEmail)
            .where(StaffAlertEmail.status == "sending", StaffAlertEmail.sending_started_at < stuck_before)
            .values(status="unknown", last_error="interrupted while sending: it may have been sent")
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def send(runtime: Runtime, alert_id: int) -> str:
    """Send one alert if it is still due; returns its status afterwards."""
    now = runtime.clock.now()
    with runtime.database.session() as session:
        claimed = session.execute(
            update(StaffAlertEmail)
            .where(StaffAlertEmail.id == alert_id, StaffAlertEmail.status.in_(("pending", "retry")))
            .values(status="sending", sending_started_at=now, attempts=StaffAlertEmail.attempts + 1)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return "taken"  # another run has it
        alert = session.get(StaffAlertEmail, alert_id)
        assert alert is not None
        reference = session.scalar(select(Item.reference).where(Item.id == alert.item_id)) or ""
        outbound = OutboundAcknowledgement(
            acknowledgement_id=alert.id,
            reference=reference,
            recipient=alert.recipient,
            subject=alert.subject,
            body_text=alert.body_text,
            written_at=now,
        )
        attempts = alert.attempts
    # Committed as `sending` before the provider is called: a crash from here on is never re-sent.
    status, error, provider_id = "sent", None, None
    try:
        provider_id = _sender(runtime).send(outbound).provider_id
    except UncertainSendError as failure:
        status, error = "unknown", f"{failure}: it may have been sent"
    except PermanentSendError as failure:
        status, error = "failed", str(failure)
    except (TemporarySendError, OSError) as failure:
        status, error = ("retry" if attempts < MAX_SEND_ATTEMPTS else "failed"), str(failure)
    with runtime.database.session() as session:
        alert = session.get(StaffAlertEmail, alert_id)
        assert alert is not None
        alert.status = status
        alert.last_error = error[:2000] if error else None
        if status == "sent":
            alert.sent_at = runtime.clock.now()
            alert.provider_id = provider_id
        audit.record(
            session,
            actor="worker",
            action=f"staff_alert_{status}",
            item_id=alert.item_id,
            alert_id=alert.id,
            kind=alert.kind,
            username=alert.username,
        )
    if status != "sent":
        log.warning("staff alert %s: %s", alert_id, status)
    return status


def _sender(runtime: Runtime) -> AcknowledgementSender:
    sender = runtime.sender("email")
    if isinstance(sender, OutboxSender):
        # Without SMTP, alerts are written beside the acknowledgements, not over them (file names are ids).
        return OutboxSender(runtime.settings.outbox_dir, "staff-email")
    return sender
