"""Tables for residents' data rights: requests (with their statutory due date), the access trail, audit texts.

Kept apart from `models/tables.py` because they describe what the landlord did *with* personal data,
not the messages themselves. None of them stores a resident's name, address or message text in the
clear except `audit_texts.text`, which erasure replaces like every other copy of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONType, UTCDateTime, utcnow


class PrivacyRequest(Base):
    """One data-rights request: subject access (export), erasure, restriction, or a retention run.

    The subject is recorded as a keyed fingerprint plus a masked hint ("p***@e***.com"), so the
    record of an erasure does not itself keep what was erased.
    """

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # export / erase / restrict / unrestrict
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / done / refused
    subject_fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    subject_hint: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # one calendar month after receipt (UK GDPR 12(3))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(120))  # the staff user or "cli"
    reason: Mapped[str | None] = mapped_column(Text)  # staff's words: why erasing, why overriding
    refusal: Mapped[str | None] = mapped_column(Text)
    item_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    contact_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # counts, retrain advice


class AccessLogEntry(Base):
    """One staff view of personal data: an item, its raw message, an attachment, a search, an export.

    Searches keep a fingerprint of the words searched for and the ids found, never the words.
    """

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_item_at", "item_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))  # view_item / view_raw / view_attachment / search / export
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    target: Mapped[str | None] = mapped_column(String(64))  # "attachment:12", "request:3"
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class AuditText(Base):
    """Free text staff typed with a case action (response summaries, reasons, remedies).

    It used to sit in the append-only audit log, where it could never be erased; the audit entry now
    carries the note's id instead.
    """

    __tablename__ = "audit_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))  # the audit action it belongs to
    field: Mapped[str] = mapped_column(String(32))  # summary / reason / remedy
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
