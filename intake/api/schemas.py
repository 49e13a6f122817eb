"""Request and response shapes of the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from triage_rules.taxonomy import CHANNELS


class ItemIn(BaseModel):
    """A message from another system. Also accepts the classifier's JSONL fields (`id`, `sender`)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    channel: str = Field(description=f"one of {', '.join(CHANNELS)}")
    external_id: str | None = Field(
        default=None, description="the sending system's id: a repeat with the same id makes no new item"
    )
    id: str | None = Field(default=None, description="alias of external_id (classifier data format)")
    body: str
    subject: str | None = None
    sender: str | None = Field(default=None, description="email address or phone number")
    sender_name: str | None = None
    sender_email: str | None = None
    sender_phone: str | None = None
    sender_role: str | None = None
    received_at: datetime | None = None
    ack_channel: str | None = Field(default=None, description="'email' or 'sms': how to acknowledge")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"unknown channel {value!r}; expected one of {', '.join(CHANNELS)}")
        return value

    @field_validator("ack_channel")
    @classmethod
    def _known_ack_channel(cls, value: str | None) -> str | None:
        if value not in (None, "email", "sms"):
            raise ValueError("ack_channel must be 'email' or 'sms'")
        return value

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("received_at needs a timezone, e.g. 2026-11-23T09:15:00Z")
        return value


class ItemAccepted(BaseModel):
    id: int
    reference: str | None
    status: str
    created: bool
    url: str


class DeadlineOut(BaseModel):
    kind: str
    stage: str | None
    due_at: datetime
    basis: str
    met_at: datetime | None


class AcknowledgementOut(BaseModel):
    purpose: str
    channel: str
    recipient: str | None
    status: str
    sent_at: datetime | None
    attempts: int
    last_error: str | None


class CaseOut(BaseModel):
    root_reference: str | None
    items: list[str]
    status: str
    stage: str | None


class ItemOut(BaseModel):
    id: int
    reference: str | None
    channel: str
    received_at: datetime
    status: str
    subject: str | None
    type: str | None
    confidence: float | None
    categories: list[str]
    flags: list[str]
    hazards: list[str]
    queue: str | None
    model_version: str | None
    review_reason: str | None
    complaint_stage: str | None
    deadlines: list[DeadlineOut]
    case: CaseOut
    acknowledgements: list[AcknowledgementOut]
