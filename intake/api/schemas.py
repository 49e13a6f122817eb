"""Request and response shapes of the JSON API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from triage_rules.taxonomy import CHANNELS

# Bounds that keep every value storable on every backend (column widths, PostgreSQL's jsonb) and
# every later computation (deadlines, references) within range: past them the answer is a clear 422.
EARLIEST_RECEIVED_AT = datetime(1990, 1, 1, tzinfo=UTC)
LATEST_RECEIVED_AT = datetime(2999, 12, 31, tzinfo=UTC)
MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 5


class ItemIn(BaseModel):
    """A message from another system. Also accepts the classifier's JSONL fields (`id`, `sender`)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    channel: str = Field(description=f"one of {', '.join(CHANNELS)}", json_schema_extra={"enum": list(CHANNELS)})
    external_id: str | None = Field(
        default=None,
        max_length=400,
        description="the sending system's id: a repeat with the same id makes no new item",
    )
    id: str | None = Field(default=None, max_length=400, description="alias of external_id (classifier data format)")
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
        return None if value is None else _without_nul(value)  # type: ignore[no-any-return]

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
        return _without_nul(value)  # type: ignore[no-any-return]


def _depth(value: Any, level: int = 0) -> int:
    """How deeply `value` nests, stopping early once past the limit (so this never recurses far)."""
    if level > MAX_METADATA_DEPTH or not isinstance(value, dict | list):
        return level
    children = value.values() if isinstance(value, dict) else value
    return max((_depth(child, level + 1) for child in children), default=level + 1)


def _without_nul(value: Any) -> Any:
    """PostgreSQL cannot store NUL in text or jsonb: it becomes U+FFFD (the raw payload keeps it)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI requestBody for `model`, with its nested definitions inlined: pydantic's own
    `#/$defs/...` references do not resolve inside an OpenAPI document."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
                return {**target, **{k: resolve(v) for k, v in node.items() if k != "$ref"}}
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return {"content": {"application/json": {"schema": resolve(schema)}}, "required": True}


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
