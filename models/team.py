"""Tables for working as a team: internal notes on a case, notifications to staff, who is viewing a case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class CaseNote(Base):
    """An internal note on a case: staff only, never sent to the resident."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)  # the case's root item
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffNotification(Base):
    """Something a member of staff should look at: a mention, an assignment, an emergency, a deadline."""

    __tablename__ = "staff_notifications"
    __table_args__ = (Index("ix_staff_notifications_unread", "username", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))  # mentioned / assigned / emergency / deadline
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    text: Mapped[str] = mapped_column(String(300))  # written by us, never the resident's words
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CasePresence(Base):
    """Who last had a case open and when: for "Aisha is viewing this case" (a soft lock)."""

    __tablename__ = "case_presence"
    __table_args__ = (UniqueConstraint("item_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    username: Mapped[str] = mapped_column(String(120))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
