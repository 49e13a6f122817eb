"""A fixed, hand-built data set for the reports, written straight into the tables (no classifier).

The quarter is 2026-Q3 (1 July – 30 September 2026, British Summer Time throughout). 31 August 2026
is the late summer bank holiday in England. Reports are run "now" = Wednesday 14 October 2026 11:00
UTC. Each item below says what it is there to test; test_service.py works the figures out by hand.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models import Acknowledgement, AuditEntry, Correction, Deadline, Item
from triage_rules.working_days import LONDON, end_of_day

NOW = datetime(2026, 10, 14, 11, 0, tzinfo=UTC)
HOMES = 2500
MODEL = "test-model-1"

_numbers = itertools.count(1)


def london(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    """A London wall-clock time, as the aware UTC datetime the tables store."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def due(month: int, day: int) -> datetime:
    """A deadline falls at the end of its London day."""
    return end_of_day(date(2026, month, day))


class Builder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids: dict[str, int] = {}

    def item(
        self,
        name: str,
        *,
        channel: str,
        received: datetime,
        type: str | None,
        queue: str | None,
        categories: tuple[str, ...] = (),
        flags: tuple[str, ...] = (),
        case_of: str | None = None,
        stage: str | None = None,
        closed: datetime | None = None,
        outcome: str | None = None,
        details: dict[str, Any] | None = None,
        model_version: str | None = MODEL,
    ) -> Item:
        item = Item(
            channel=channel,
            external_id=f"{name}-{next(_numbers)}",
            received_at=received,
            created_at=received,
            body=f"test item {name}",
            sender_address=f"{name.lower()}@example.com",
            case_id=self.ids[case_of] if case_of else None,
            status="processed",
            case_status="closed" if closed else "open",
            type=type,
            categories=list(categories),
            flags=list(flags),
            queue=queue,
            model_version=model_version,
            complaint_stage=stage,
            stage_started_at=received if stage else None,
            closed_at=closed,
            outcome=outcome,
            details=details or {},
        )
        self.session.add(item)
        self.session.flush()
        self.ids[name] = item.id
        return item

    def deadline(
        self,
        item: Item,
        kind: str,
        stage: str | None,
        due_at: datetime,
        *,
        met: datetime | None = None,
        superseded: datetime | None = None,
        created: datetime | None = None,
    ) -> None:
        self.session.add(
            Deadline(
                item_id=item.id,
                kind=kind,
                stage=stage,
                due_at=due_at,
                basis="hand-built for the reports tests",
                policy="ombudsman-2024",
                created_at=created or item.received_at + timedelta(seconds=30),
                met_at=met,
                superseded_at=superseded,
            )
        )

    def acknowledgement(
        self,
        item: Item,
        purpose: str,
        *,
        created: datetime,
        sent: datetime | None,
        status: str = "sent",
    ) -> None:
        self.session.add(
            Acknowledgement(
                item_id=item.id,
                purpose=purpose,
                channel="email" if status != "needs_callback" else "none",
                recipient=item.sender_address,
                body_text="acknowledgement",
                status=status,
                created_at=created,
                sent_at=sent,
            )
        )

    def audit(self, item: Item, action: str, at: datetime, **details: Any) -> None:
        self.session.add(AuditEntry(at=at, actor="staff", action=action, item_id=item.id, details=details))

    def correction(self, item: Item, before: dict[str, Any], after: dict[str, Any], at: datetime) -> None:
        self.session.add(
            Correction(item_id=item.id, corrected_by="manager", before=before, after=after, created_at=at)
        )


def labels(type_: str, categories: list[str], flags: list[str]) -> dict[str, Any]:
    return {"type": type_, "categories": categories, "flags": flags}


def load(session: Session) -> dict[str, int]:
    """Write the data set; returns item ids by name."""
    b = Builder(session)

    # C1 — an ordinary stage 1 complaint: acknowledged at once, answered in 9 working days, upheld
    # with a remedy. Staff added a category the classifier missed.
    c1 = b.item(
        "C1",
        channel="email",
        received=london(7, 6),
        type="complaint",
        queue="complaints",
        categories=("delay", "poor_quality"),
        stage="stage_1",
        closed=london(7, 17, 15),
        outcome="Upheld",
        details={"remedy": "£50 compensation"},
    )
    b.acknowledgement(c1, "received", created=london(7, 6, 10, 1), sent=london(7, 6, 10, 5))
    b.deadline(c1, "acknowledge", "stage_1", due(7, 13), met=london(7, 6, 10, 5))
    b.deadline(c1, "respond", "stage_1", due(7, 20), met=london(7, 17, 14))
    b.correction(
        c1,
        labels("complaint", ["delay"], []),
        labels("complaint", ["delay", "poor_quality"], []),
        london(7, 7),
    )

    # C2 — answered late (11 working days after a same-day acknowledgement). The classifier called it
    # a service request.
    c2 = b.item(
        "C2",
        channel="sms",
        received=london(7, 10, 21),
        type="complaint",
        queue="complaints",
        categories=("delay",),
        stage="stage_1",
        closed=london(7, 27, 16),
        outcome="Not upheld",
    )
    b.acknowledgement(c2, "received", created=london(7, 10, 21, 1), sent=london(7, 10, 21, 1))
    b.deadline(c2, "acknowledge", "stage_1", due(7, 17), met=london(7, 10, 21, 1))
    b.deadline(c2, "respond", "stage_1", due(7, 24), met=london(7, 27, 11))
    b.correction(c2, labels("service_request", [], []), labels("complaint", ["delay"], []), london(7, 11))

    # C3 — an extension agreed within the Code's limit (15 → 29 July), answered on 28 July. The
    # recomputation left a fresh, unmet acknowledge row (already met: not overdue), a holding reply
    # and the resident's escalation window (neither is ours to meet).
    c3 = b.item(
        "C3",
        channel="web_form",
        received=london(7, 1, 9),
        type="complaint",
        queue="complaints",
        categories=("poor_quality",),
        stage="stage_1",
    )
    b.acknowledgement(c3, "received", created=london(7, 1, 9, 1), sent=london(7, 1, 9, 1))
    extended = london(7, 10, 12)
    b.deadline(c3, "acknowledge", "stage_1", due(7, 8), met=london(7, 1, 9, 1), superseded=extended)
    b.deadline(c3, "respond", "stage_1", due(7, 15), superseded=extended)
    b.deadline(c3, "acknowledge", "stage_1", due(7, 8), created=extended)
    b.deadline(c3, "holding_response", "stage_1", due(7, 15), created=extended)
    b.deadline(c3, "respond", "stage_1", due(7, 29), met=london(7, 28, 15), created=extended)
    b.deadline(c3, "escalation_request_by", "stage_1", due(8, 11), created=extended)
    b.audit(c3, "extended", extended, stage="stage_1", until="2026-07-29T22:59:59+00:00", reason="complex")

    # C4 — an extension beyond the Code's 10 working days (to 12 August, which this hand-built
    # policy row allowed): in target for the policy, late for CH02 (capped at 29 July). Two
    # corrections: the classifier's labels are the first one's `before`.
    c4 = b.item(
        "C4",
        channel="email",
        received=london(7, 1, 11),
        type="complaint",
        queue="complaints",
        categories=("delay",),
        stage="stage_1",
    )
    b.acknowledgement(c4, "received", created=london(7, 1, 11, 1), sent=london(7, 1, 11, 1))
    b.deadline(c4, "acknowledge", "stage_1", due(7, 8), met=london(7, 1, 11, 1))
    b.deadline(c4, "respond", "stage_1", due(7, 15), superseded=london(7, 13, 9))
    b.deadline(c4, "respond", "stage_1", due(8, 12), met=london(8, 5, 12), created=london(7, 13, 9))
    b.audit(c4, "extended", london(7, 13, 9), stage="stage_1", until="2026-08-12T12:00:00+01:00", reason="x")
    b.correction(
        c4,
        labels("complaint", ["cost"], ["third_party"]),
        labels("complaint", ["cost", "delay"], ["third_party"]),
        london(7, 2),
    )
    b.correction(
        c4,
        labels("complaint", ["cost", "delay"], ["third_party"]),
        labels("complaint", ["delay"], []),
        london(7, 3),
    )

    # C5 — received and acknowledged on the August bank holiday: the clock starts on Tuesday
    # 1 September, so a response on 15 September is in time (counting from the holiday would
    # make it one day late).
    c5 = b.item(
        "C5",
        channel="email",
        received=london(8, 31, 9),
        type="complaint",
        queue="complaints",
        categories=("failure_to_provide",),
        stage="stage_1",
    )
    b.acknowledgement(c5, "received", created=london(8, 31, 9, 2), sent=london(8, 31, 9, 2))
    b.deadline(c5, "acknowledge", "stage_1", due(9, 7), met=london(8, 31, 9, 2))
    b.deadline(c5, "respond", "stage_1", due(9, 15), met=london(9, 15, 16))

    # C6 — acknowledged by a call-back (no message sent), answered, closed, then REOPENED on 3 August
    # and not yet answered again: counted once in CH01 and CH02, overdue now for its new response.
    c6 = b.item(
        "C6",
        channel="email",
        received=london(7, 7),
        type="complaint",
        queue="complaints",
        categories=("staff_behaviour",),
        stage="stage_1",
        outcome="upheld",
        details={"remedy": "apology", "reopened": [london(8, 3).isoformat()]},
    )
    reopened = london(8, 3)
    b.acknowledgement(c6, "received", created=london(7, 7, 10, 1), sent=None, status="needs_callback")
    b.deadline(c6, "acknowledge", "stage_1", due(7, 14), met=london(7, 9, 15), superseded=reopened)
    b.deadline(c6, "respond", "stage_1", due(7, 23), met=london(7, 14, 12), superseded=reopened)
    b.deadline(c6, "acknowledge", "stage_1", due(7, 14), created=reopened)
    b.deadline(c6, "respond", "stage_1", due(8, 17), created=reopened)
    b.audit(c6, "closed", london(7, 14, 12, 5), outcome="upheld")
    b.audit(c6, "reopened", reopened, reason="resident says the apology missed the point")

    # C7 — answered at stage 1, escalated to stage 2 on 20 July, answered in time, partly upheld.
    c7 = b.item(
        "C7",
        channel="email",
        received=london(7, 2),
        type="complaint",
        queue="complaints",
        categories=("delay", "cost"),
        flags=("ombudsman",),
        stage="stage_2",
        closed=london(8, 14, 16),
        outcome="Partly upheld",
        details={"remedy": "£100"},
    )
    escalated = london(7, 20, 11)
    c7.stage_started_at = escalated
    b.acknowledgement(c7, "received", created=london(7, 2, 10, 1), sent=london(7, 2, 10, 1))
    b.acknowledgement(c7, "stage_2", created=escalated, sent=london(7, 20, 11, 1))
    b.deadline(c7, "acknowledge", "stage_1", due(7, 9), met=london(7, 2, 10, 1), superseded=escalated)
    b.deadline(c7, "respond", "stage_1", due(7, 16), met=london(7, 9, 15), superseded=escalated)
    b.deadline(c7, "escalation_request_by", "stage_1", due(8, 6), superseded=escalated)
    b.deadline(c7, "acknowledge", "stage_2", due(7, 27), met=london(7, 20, 11, 1), created=escalated)
    b.deadline(c7, "respond", "stage_2", due(8, 17), met=london(8, 14, 15), created=escalated)

    # C8 — received in June (last quarter); escalated on 1 July; stage 2 answered late on 31 July.
    c8 = b.item(
        "C8",
        channel="email",
        received=london(6, 9),
        type="complaint",
        queue="complaints",
        categories=("cost",),
        stage="stage_2",
        closed=london(7, 31, 17),
        outcome="not upheld",
    )
    escalated = london(7, 1, 9, 30)
    c8.stage_started_at = escalated
    b.acknowledgement(c8, "received", created=london(6, 9, 10, 1), sent=london(6, 9, 10, 1))
    b.acknowledgement(c8, "stage_2", created=escalated, sent=london(7, 1, 9, 31))
    b.deadline(c8, "acknowledge", "stage_1", due(6, 16), met=london(6, 9, 10, 1), superseded=escalated)
    b.deadline(c8, "respond", "stage_1", due(6, 23), met=london(6, 19, 12), superseded=escalated)
    b.deadline(c8, "acknowledge", "stage_2", due(7, 8), met=london(7, 1, 9, 31), created=escalated)
    b.deadline(c8, "respond", "stage_2", due(7, 29), met=london(7, 31, 10), created=escalated)

    # C9 — a service request from June that became a complaint when a chaser (F2) arrived on 2 July:
    # stage 1 starts then, and its clock starts at the complaint acknowledgement, not the June one
    # (from which 16 July would be late).
    c9 = b.item(
        "C9",
        channel="sms",
        received=london(6, 29, 8),
        type="complaint",
        queue="complaints",
        categories=("delay",),
        stage="stage_1",
        closed=london(7, 16, 17),
        outcome="Upheld",
    )
    f2 = b.item(
        "F2", channel="sms", received=london(7, 2, 13, 58), type="complaint", queue="complaints", case_of="C9"
    )
    c9.stage_started_at = f2.received_at
    became = london(7, 2, 14)
    b.acknowledgement(c9, "received", created=london(6, 29, 8, 1), sent=london(6, 29, 8, 1))
    b.acknowledgement(c9, "complaint", created=became, sent=london(7, 2, 14, 1))
    b.deadline(c9, "acknowledge", None, due(7, 6), met=london(6, 29, 8, 1), superseded=became)
    b.deadline(c9, "acknowledge", "stage_1", due(7, 9), met=london(7, 2, 14, 1), created=became)
    b.deadline(c9, "respond", "stage_1", due(7, 16), met=london(7, 16, 16), created=became)
    b.audit(c9, "became_complaint", became, before="service_request", trigger_item=f2.id, stage="stage_1")

    # C10 — a call transcript acknowledged late (20 July, due 15 July): the Code's clock starts on
    # 15 July regardless, so the 31 July response is late (from 20 July it would have looked in time).
    c10 = b.item(
        "C10",
        channel="call_transcript",
        received=london(7, 8, 14),
        type="complaint",
        queue="complaints",
        stage="stage_1",
    )
    b.acknowledgement(c10, "received", created=london(7, 8, 14, 1), sent=london(7, 20, 10))
    b.deadline(c10, "acknowledge", "stage_1", due(7, 15), met=london(7, 20, 10))
    b.deadline(c10, "respond", "stage_1", due(7, 22), met=london(7, 31, 12))

    # C11 — open and not answered: overdue now by 12 working days.
    c11 = b.item(
        "C11",
        channel="email",
        received=london(9, 14, 9),
        type="complaint",
        queue="complaints",
        categories=("delay",),
        stage="stage_1",
    )
    b.acknowledgement(c11, "received", created=london(9, 14, 9, 1), sent=london(9, 14, 9, 1))
    b.deadline(c11, "acknowledge", "stage_1", due(9, 21), met=london(9, 14, 9, 1))
    b.deadline(c11, "respond", "stage_1", due(9, 28))

    # C12 — answered on 21 July, closed, REOPENED on 10 August and answered again on 20 August: the
    # second response is not a second complaint nor a second CH02 response.
    c12 = b.item(
        "C12",
        channel="email",
        received=london(7, 13),
        type="complaint",
        queue="complaints",
        categories=("delay",),
        stage="stage_1",
        closed=london(8, 20, 15, 5),
        outcome="upheld",
    )
    reopened = london(8, 10, 9)
    b.acknowledgement(c12, "received", created=london(7, 13, 10, 1), sent=london(7, 13, 10, 1))
    b.deadline(c12, "acknowledge", "stage_1", due(7, 20), met=london(7, 13, 10, 1), superseded=reopened)
    b.deadline(c12, "respond", "stage_1", due(7, 27), met=london(7, 21, 10), superseded=reopened)
    b.deadline(c12, "acknowledge", "stage_1", due(7, 20), created=reopened)
    b.deadline(c12, "respond", "stage_1", due(8, 24), met=london(8, 20, 15), created=reopened)
    b.audit(c12, "reopened", reopened, reason="new information")

    # C13 — arrived on 25 September as an enquiry; staff corrected it to a complaint on 5 October. The
    # complaint was made when the message arrived, so it is one of Q3's stage 1 complaints.
    c13 = b.item(
        "C13",
        channel="email",
        received=london(9, 25, 10),
        type="complaint",
        queue="complaints",
        categories=("policy",),
        stage="stage_1",
    )
    corrected = london(10, 5, 9)
    b.acknowledgement(c13, "received", created=london(9, 25, 10, 1), sent=london(9, 25, 10, 1))
    b.acknowledgement(c13, "complaint", created=corrected, sent=london(10, 5, 9, 1))
    b.deadline(c13, "acknowledge", "stage_1", due(10, 2), met=london(10, 5, 9, 1), created=corrected)
    b.deadline(c13, "respond", "stage_1", due(10, 19), created=corrected)
    b.audit(c13, "became_complaint", corrected, before="enquiry", trigger_item=c13.id, stage="stage_1")
    b.correction(c13, labels("enquiry", [], []), labels("complaint", ["policy"], []), corrected)

    # Z1 — next quarter (1 October): not in Q3; its acknowledgement failed, so it is overdue now by
    # 4 working days (due 8 October).
    z1 = b.item(
        "Z1",
        channel="email",
        received=london(10, 1, 9),
        type="complaint",
        queue="complaints",
        categories=("delay",),
        stage="stage_1",
    )
    b.acknowledgement(z1, "received", created=london(10, 1, 9, 1), sent=None, status="failed")
    b.deadline(z1, "acknowledge", "stage_1", due(10, 8))
    b.deadline(z1, "respond", "stage_1", due(10, 15))

    # Other types.
    s1 = b.item(
        "S1",
        channel="sms",
        received=london(7, 3, 8),
        type="service_request",
        queue="emergency",
        flags=("urgent_safety",),
    )
    b.deadline(s1, "make_safe", None, london(7, 4, 8), met=london(7, 3, 11))
    b.item(
        "S2", channel="web_form", received=london(7, 15, 12), type="service_request", queue="service_requests"
    )
    e1 = b.item(
        "E1",
        channel="email",
        received=london(7, 20, 9),
        type="enquiry",
        queue="enquiries",
        closed=london(7, 21, 10),
        outcome="Answered",
    )
    b.correction(
        e1,
        labels("complaint", ["staff_behaviour"], ["ombudsman"]),
        labels("enquiry", [], []),
        london(7, 20, 12),
    )
    # E2 — a councillor's formal enquiry; its deadlines were recomputed after the acknowledgement,
    # leaving an unmet acknowledge row that is not overdue (it was met).
    e2 = b.item(
        "E2",
        channel="email",
        received=london(8, 4, 9),
        type="enquiry",
        queue="formal_enquiries",
        flags=("designated_person",),
    )
    b.deadline(e2, "acknowledge", None, due(8, 11), met=london(8, 4, 9, 1), superseded=london(8, 5, 9))
    b.deadline(e2, "acknowledge", None, due(8, 11), created=london(8, 5, 9))
    # K1 — 00:30 on 1 July in London is 23:30 UTC on 30 June: July's (and Q3's), not June's.
    b.item(
        "K1",
        channel="web_form",
        received=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
        type="compliment",
        queue="compliments",
    )
    b.item("G1", channel="email", received=london(9, 10, 9), type="suggestion", queue="suggestions")
    # U1 — unreadable, for a person to triage; never acknowledged: overdue now by 18 working days.
    u1 = b.item(
        "U1", channel="sms", received=london(9, 11, 13), type=None, queue="triage_review", model_version=None
    )
    b.deadline(u1, "acknowledge", None, due(9, 18))
    # F1 — a follow-up on C1's case: a message, not a new case.
    b.item("F1", channel="email", received=london(7, 20), type="enquiry", queue="complaints", case_of="C1")
    # STOP — an SMS keyword: stored, never triaged.
    stop = b.item(
        "STOP",
        channel="sms",
        received=london(8, 5, 9),
        type=None,
        queue=None,
        details={"sms_keyword": "STOP"},
        model_version=None,
    )
    stop.case_status = "closed"
    # Z2 — 23:59 on 30 June in London: June's (Q2), although it is 22:59 UTC.
    b.item(
        "Z2",
        channel="email",
        received=datetime(2026, 6, 30, 22, 59, tzinfo=UTC),
        type="enquiry",
        queue="enquiries",
    )
    session.flush()
    return b.ids
