"""Database tables (SQLAlchemy 2) and their Alembic migrations (models/migrations)."""

from models.base import Base
from models.privacy import AccessLogEntry, CaseNote, PrivacyRequest
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

__all__ = [
    "AccessLogEntry",
    "CaseNote",
    "PrivacyRequest",
    "Acknowledgement",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
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
