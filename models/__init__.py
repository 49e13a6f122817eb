"""Database tables (SQLAlchemy 2) and their Alembic migrations (models/migrations)."""

from models.base import Base
from models.privacy import AccessLogEntry, AuditText, PrivacyRequest
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
    StaffSession,
    User,
)
from models.replies import Reply, ReplyTemplate, StaffAlertEmail, StaffAlertSetting
from models.team import CaseNote, CasePresence, StaffNotification

__all__ = [
    "AccessLogEntry",
    "AuditText",
    "PrivacyRequest",
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
    "QueuedJob",
    "RawMessage",
    "Reply",
    "ReplyTemplate",
    "StaffAlertEmail",
    "StaffAlertSetting",
    "SmsOptOut",
    "StaffSession",
    "User",
]
