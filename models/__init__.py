"""Database tables (SQLAlchemy 2) and their Alembic migrations (models/migrations)."""

from models.base import Base
from models.tables import (
    Acknowledgement,
    ApiToken,
    Attachment,
    AuditEntry,
    ChannelCursor,
    ClassificationRun,
    Contact,
    Correction,
    Deadline,
    Item,
    RawMessage,
    SmsOptOut,
    User,
)
from models.team import CaseNote, CasePresence, StaffNotification

__all__ = [
    "Acknowledgement",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
    "CaseNote",
    "CasePresence",
    "StaffNotification",
    "ChannelCursor",
    "ClassificationRun",
    "Contact",
    "Correction",
    "Deadline",
    "Item",
    "RawMessage",
    "SmsOptOut",
    "User",
]
