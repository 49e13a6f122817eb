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
    QueuedJob,
    RawMessage,
    SmsOptOut,
    User,
)

__all__ = [
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
    "QueuedJob",
    "RawMessage",
    "SmsOptOut",
    "User",
]
