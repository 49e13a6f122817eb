"""The tables. Every decision made about an item is stored on it, so a person can see why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType, UTCDateTime, utcnow


class Contact(Base):
    """A person or office that writes in: tenant, relative, advocate, MP's office, councillor."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164
    role: Mapped[str] = mapped_column(String(32), default="unknown")  # tenant/relative/advocate/mp/councillor
    consent_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Item(Base):
    """One inbound message. `case_id` points at the root item of its case (None: it is a root)."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),  # the same message never makes two items
        Index("ix_items_received_at", "received_at"),
        Index("ix_items_queue_status", "queue", "case_status"),
        Index("ix_items_sender_address", "sender_address"),
        Index("ix_items_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(512))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")  # the readable original, untouched
    prepared_text: Mapped[str | None] = mapped_column(Text)  # what the model saw
    sender_address: Mapped[str | None] = mapped_column(String(320))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    thread_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # channel extras
    mailbox_hint: Mapped[str | None] = mapped_column(String(64))

    # received -> processed; "failed" only when processing raised and retries ran out
    status: Mapped[str] = mapped_column(String(16), default="received")
    case_status: Mapped[str] = mapped_column(String(16), default="open")  # open / closed
    type: Mapped[str | None] = mapped_column(String(32), index=True)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    hazards: Mapped[list[str]] = mapped_column(JSONType, default=list)
    queue: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    routing_reason: Mapped[str | None] = mapped_column(Text)
    review_reason: Mapped[str | None] = mapped_column(Text)
    parse_error: Mapped[str | None] = mapped_column(Text)
    suppress_acknowledgement_reason: Mapped[str | None] = mapped_column(Text)

    complaint_stage: Mapped[str | None] = mapped_column(String(16))
    stage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    # Residents' data rights (intake/privacy): hidden from all but admins; kept past its retention
    # period (legal hold, with the reason); personal data replaced by a marker.
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="item", order_by="Deadline.due_at", cascade="all, delete-orphan"
    )
    acknowledgements: Mapped[list[Acknowledgement]] = relationship(
        back_populates="item", order_by="Acknowledgement.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(back_populates="item", order_by="Attachment.id")
    contact: Mapped[Contact | None] = relationship()

    @property
    def case_root_id(self) -> int:
        return self.case_id or self.id


class RawMessage(Base):
    """The bytes exactly as they arrived, kept apart from `items` so queue and report scans stay lean."""

    __tablename__ = "raw_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(128))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    rejected_reason: Mapped[str | None] = mapped_column(Text)  # raw payloads refused at the door
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # None when over the size limit
    item: Mapped[Item] = relationship(back_populates="attachments")


class Deadline(Base):
    """A promised date. Recomputing supersedes the old rows instead of deleting them."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(
        String(48)
    )  # acknowledge / respond / make_safe / investigate_hazard ...
    stage: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    basis: Mapped[str] = mapped_column(Text)  # the policy clause in words
    policy: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    item: Mapped[Item] = relationship(back_populates="deadlines")


class ClassificationRun(Base):
    __tablename__ = "classification_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    model_version: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Correction(Base):
    """A staff correction of an item's labels; used as training data by `intake train`."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    corrected_by: Mapped[str] = mapped_column(String(120))
    before: Mapped[dict[str, Any]] = mapped_column(JSONType)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    trained_in_version: Mapped[str | None] = mapped_column(String(64))


class Acknowledgement(Base):
    """One outbound acknowledgement. (item_id, purpose) is unique: an item is never acknowledged twice."""

    __tablename__ = "acknowledgements"
    __table_args__ = (
        UniqueConstraint("item_id", "purpose"),
        # what each recipient was sent in the last 24 hours (the daily limit), read every batch
        Index("ix_acknowledgements_recipient_created_at", "recipient", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # received / complaint / escalated
    channel: Mapped[str] = mapped_column(String(16))  # email / sms / none
    recipient: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    # A digest of what the wording above was rendered from (intake/acknowledgements.py): the sender
    # renders again only when the case's dates or details have changed since. None: always again.
    rendered_for: Mapped[str | None] = mapped_column(String(64))
    # pending -> sending -> sent -> delivered | failed | undelivered; suppressed; needs_callback; unknown
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    provider_id: Mapped[str | None] = mapped_column(String(320), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sending_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # for the sweep's "interrupted"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    item: Mapped[Item] = relationship(back_populates="acknowledgements")


class AuditEntry(Base):
    """Append-only (database triggers refuse UPDATE, DELETE, replacing INSERT and TRUNCATE), hash-chained:
    everything that happened."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))  # "system", "worker", a staff username, a token name
    action: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The hash chain (intake/audit.py): the newest entry seen when this one was written, and this
    # entry's hash over that link and its own contents. None on entries older than migration 0005.
    previous_id: Mapped[int | None] = mapped_column(Integer)
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class ChannelCursor(Base):
    """Where a polling channel got to (IMAP: UIDVALIDITY and last UID per mailbox)."""

    __tablename__ = "channel_cursors"
    __table_args__ = (UniqueConstraint("channel", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    # IMAP UIDVALIDITY and UIDs are unsigned 32-bit: past PostgreSQL's INTEGER range (0002 widened them).
    validity: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The last poll's outcome, shown on the Settings page and in /healthz (0009).
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    waiting: Mapped[int | None] = mapped_column(Integer)  # messages found but not yet read in, at the last poll


class SmsOptOut(Base):
    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    keyword: Mapped[str] = mapped_column(String(16))


class ApiToken(Base):
    """Integration tokens: only a SHA-256 hash is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="cli")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Space-separated: "items:write" (post items; the default) and "items:read" (read any item back).
    scopes: Mapped[str] = mapped_column(String(200), default="items:write", server_default="items:write")


class User(Base):
    """Staff users of the workspace. Roles: triage, manager, admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True, unique=True)  # single sign-on matches on it (0011)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    """One staff sign-in. The cookie carries a random token; only its SHA-256 is stored here, and a
    session is valid only while its row is unrevoked and unexpired (so it can be ended server-side)."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))  # signed_out / password_changed / ...


class QueuedJob(Base):
    """The embedded mode's job queue (no Redis): one row per job that is queued, running or failed.

    `key` is the job's deterministic id (`process-12`, `acknowledge-7`), unique, so a job is never
    queued twice; a finished job's row is deleted, so queueing it again later makes a new row.
    Workers claim rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer) and record who
    holds them, so the jobs of a worker that died are handed back at once (intake/database_queue.py).
    """

    __tablename__ = "job_queue"
    __table_args__ = (Index("ix_job_queue_ready", "status", "priority", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    function: Mapped[str] = mapped_column(String(200))  # e.g. intake.jobs.process_item
    args: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=1)  # lower first: acknowledgements are 0
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued / running / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=6)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=600)  # a holder silent longer is presumed dead
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))  # "<host>.<pid>" of the worker holding it
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
