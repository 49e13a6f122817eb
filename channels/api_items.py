"""The items API's payload (`POST /api/v1/items`): another system's message, as JSON → `InboundMessage`.

Pure: the endpoint (intake/api/items.py) reads the body and hands it here; `ItemsApiAdapter.parse`
returns the message or a `Refused` naming the problem.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.base import Refused
from channels.json_payload import EARLIEST_RECEIVED_AT, LATEST_RECEIVED_AT, parse_json, without_nul
from channels.message import InboundMessage
from channels.senders import sender_contacts
from triage_rules.taxonomy import CHANNELS

# Bounds that keep every value storable on every backend (column widths, PostgreSQL's jsonb):
# past them the answer is a clear 422.
MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 5


class ItemIn(BaseModel):
    """A message from another system. Also accepts the classifier's JSONL fields (`id`, `sender`)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    channel: str = Field(description=f"one of {', '.join(CHANNELS)}", json_schema_extra={"enum": list(CHANNELS)})
    # Its length is checked where it is stored (intake/pipeline.py), prefix included.
    external_id: str | None = Field(
        default=None, description="the sending system's id: a repeat with the same id makes no new item"
    )
    id: str | None = Field(default=None, description="alias of external_id (classifier data format)")
    body: str
    subject: str | None = Field(default=None, max_length=2000)
    sender: str | None = Field(default=None, max_length=320, description="email address or phone number")
    sender_name: str | None = Field(default=None, max_length=200)
    sender_email: str | None = Field(default=None, max_length=320)
    sender_phone: str | None = Field(default=None, max_length=32)
    sender_role: str | None = Field(default=None, max_length=32)
    received_at: datetime | None = Field(
        default=None, description="with a timezone; between 1990 and 2999 (default: when it arrives)"
    )
    ack_channel: Literal["email", "sms"] | None = Field(default=None, description="how to acknowledge")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="the sending system's own data, kept with the item as data only: it never changes "
        f"what the system does (at most {MAX_METADATA_BYTES} bytes as JSON, nested {MAX_METADATA_DEPTH} deep)",
    )

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"unknown channel {value!r}; expected one of {', '.join(CHANNELS)}")
        return value

    @field_validator(
        "external_id", "id", "body", "subject", "sender", "sender_name", "sender_email", "sender_phone", "sender_role"
    )
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        return None if value is None else str(without_nul(value))

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("received_at needs a timezone, e.g. 2026-11-23T09:15:00Z")
        if not EARLIEST_RECEIVED_AT <= value <= LATEST_RECEIVED_AT:
            raise ValueError("received_at must be between 1990 and 2999")
        return value

    @field_validator("metadata")
    @classmethod
    def _storable_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _depth(value) > MAX_METADATA_DEPTH:
            raise ValueError(f"metadata may be nested at most {MAX_METADATA_DEPTH} deep")
        if len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata may be at most {MAX_METADATA_BYTES} bytes as JSON")
        cleaned: dict[str, Any] = without_nul(value)
        return cleaned


def _depth(value: Any, level: int = 0) -> int:
    """How deeply `value` nests, stopping early once past the limit (so this never recurses far)."""
    if level > MAX_METADATA_DEPTH or not isinstance(value, dict | list):
        return level
    children = value.values() if isinstance(value, dict) else value
    return max((_depth(child, level + 1) for child in children), default=level + 1)


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
            metadata={"source": f"api:{self.client_name}"},
            client_metadata=data.metadata,  # the client's data: kept, never read as system state
        )
