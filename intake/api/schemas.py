"""Request and response shapes of the JSON API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from channels.api_items import ItemIn  # the request shape lives with its adapter

__all__ = ["AcknowledgementOut", "CaseOut", "DeadlineOut", "ItemAccepted", "ItemIn", "ItemOut"]


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
