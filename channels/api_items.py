"""The items API's payload (`POST /api/v1/items`): another system's message, as JSON → `InboundMessage`.

Pure: the endpoint (intake/api/items.py) reads the body and hands it here; `ItemsApiAdapter.parse`
returns the message or a `Refused` naming the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.base import Refused
from channels.json_payload import parse_json
from channels.message import InboundMessage
from channels.senders import sender_contacts
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


@dataclass(frozen=True)
class ItemsApiAdapter:
    """One calling system's items: their ids are namespaced by `client_name`, so two never collide."""

    client_name: str
    channel: str = "api"

    def parse(self, raw: bytes, headers: Mapping[str, str]) -> InboundMessage | Refused:
        content_type = headers.get("content-type", "") or "application/json"
        data = parse_json(raw, ItemIn, what="item", channel=self.channel, content_type=content_type)
        if isinstance(data, Refused):
            return data
        external_id = data.external_id or data.id
        if not external_id:
            return Refused(
                reason="external_id is required: it is what makes a repeated delivery harmless",
                channel=self.channel,
                content_type=content_type,
            )
        sender = sender_contacts(data.sender, email=data.sender_email, phone=data.sender_phone)
        return InboundMessage(
            channel=data.channel,
            external_id=f"{self.client_name}:{external_id}",
            body=data.body,
            received_at=data.received_at,
            subject=data.subject,
            sender_address=sender.address,
            sender_name=data.sender_name,
            sender_email=sender.email,
            sender_phone=sender.phone,
            sender_role=data.sender_role,
            raw=raw,
            raw_content_type="application/json",
            ack_channel=data.ack_channel,
            metadata={"source": f"api:{self.client_name}", **data.metadata},
        )
