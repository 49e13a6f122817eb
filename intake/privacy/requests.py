"""The record of each data-rights request and its due date: one calendar month from receipt (UK GDPR Art. 12(3)).

The clock is an argument: domain code never reads the wall clock itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import PrivacyRequest

KINDS = ("export", "erase", "restrict", "unrestrict")


def open_request_for(session: Session, *, kind: str, subject_fingerprint: str) -> PrivacyRequest | None:
    return session.scalars(
        select(PrivacyRequest)
        .where(PrivacyRequest.kind == kind, PrivacyRequest.subject_fingerprint == subject_fingerprint,
               PrivacyRequest.status == "open")
        .order_by(PrivacyRequest.id)
        .limit(1)
    ).first()


def due_date(received_at: datetime) -> datetime:
    """The corresponding date next month; the month's last day when there is none (31 Jan -> 28/29 Feb).

    This is the ICO's reading of "one month"; `relativedelta` clips to the month end the same way.
    """
    due: datetime = received_at + relativedelta(months=1)  # dateutil is untyped: Any to mypy
    return due


def open_request(
    session: Session,
    *,
    kind: str,
    subject_fingerprint: str,
    subject_hint: str,
    requested_by: str,
    now: datetime,
    reason: str | None = None,
    item_ids: list[int] | None = None,
    contact_ids: list[int] | None = None,
) -> PrivacyRequest:
    request = PrivacyRequest(
        kind=kind,
        status="open",
        subject_fingerprint=subject_fingerprint,
        subject_hint=subject_hint,
        received_at=now,
        due_at=due_date(now),
        requested_by=requested_by,
        reason=reason,
        item_ids=list(item_ids or []),
        contact_ids=list(contact_ids or []),
        outcome={},
    )
    session.add(request)
    session.flush()
    return request


def finish(request: PrivacyRequest, *, now: datetime, outcome: dict[str, Any]) -> None:
    request.status = "done"
    request.completed_at = now
    request.outcome = outcome


def refuse(request: PrivacyRequest, *, now: datetime, refusal: str) -> None:
    request.status = "refused"
    request.completed_at = now
    request.refusal = refusal


@dataclass(frozen=True)
class RequestRow:
    request: PrivacyRequest
    days_left: int  # negative: overdue; counted in whole days from `now`

    @property
    def overdue(self) -> bool:
        return self.request.status == "open" and self.days_left < 0


def days_left(due_at: datetime, now: datetime) -> int:
    return math.floor((due_at - now).total_seconds() / 86400)


def list_requests(session: Session, *, now: datetime, limit: int = 200) -> list[RequestRow]:
    rows = session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(limit))
    return [RequestRow(request=row, days_left=days_left(row.due_at, now)) for row in rows]
