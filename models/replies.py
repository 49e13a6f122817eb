"""Tables for talking to residents and alerting staff: replies written in the workspace, the
templates a manager edits for them, each member of staff's email alert settings, and one row per
staff alert email (its unique key is what makes "sent once" hold across runs of the periodic job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONType, UTCDateTime, utcnow


class Reply(Base):
    """A reply an officer wrote on a case. The sending is an `Acknowledgement` row (purpose
    `reply_<id>`) so it goes through the same senders, retries and sweep; this row keeps what only a
    reply has: who wrote it, from which template, its threading, and whether it is the stage response."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(
        String(64), unique=True
    )  # the form's one-time token: a resent form is one reply
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)  # the case's root item
    acknowledgement_id: Mapped[int | None] = mapped_column(ForeignKey("acknowledgements.id"), unique=True)
    author: Mapped[str] = mapped_column(String(120))
    template_key: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # email / sms
    in_reply_to: Mapped[str | None] = mapped_column(String(998))  # the resident's message (email)
    references: Mapped[list[str]] = mapped_column(JSONType, default=list)  # the case's thread and our letters
    stage_response: Mapped[bool] = mapped_column(Boolean, default=False)
    response_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_note: Mapped[str | None] = mapped_column(String(300))  # why it could not be recorded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReplyTemplate(Base):
    """A manager's version of a reply template (the shipped defaults live in triage_rules/reply_templates)."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(16))  # email / sms
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffAlertSetting(Base):
    """One member of staff's choice of alert emails, and where to send them."""

    __tablename__ = "staff_alert_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    urgent_arrivals: Mapped[bool] = mapped_column(Boolean, default=False)  # emergency / safeguarding
    deadlines: Mapped[bool] = mapped_column(Boolean, default=False)  # about to be missed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffAlertEmail(Base):
    """One alert email to one member of staff: pending -> sending -> sent | retry | failed | unknown."""

    __tablename__ = "staff_alert_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # kind:item/deadline:username
    username: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # urgent_arrival / deadline
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(320))
    last_error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sending_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
