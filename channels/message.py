"""The one shape every channel hands to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    content: bytes | None = None  # None when over the size limit: metadata kept, bytes dropped


@dataclass
class InboundMessage:
    """A message as a channel received it, before anything is decided about it.

    `external_id` is the channel's own id (email Message-ID, Twilio MessageSid, form submission
    token, call id): the pipeline never makes two items for one (channel, external_id).
    `raw` is exactly what arrived (email bytes, webhook form body, JSON payload) and is kept.
    """

    channel: str
    external_id: str
    body: str
    received_at: datetime | None = None
    subject: str | None = None
    sender_address: str | None = None  # email address or E.164 phone number
    sender_name: str | None = None
    sender_email: str | None = None
    sender_phone: str | None = None
    sender_role: str | None = None  # tenant / relative / advocate / mp / councillor / unknown
    raw: bytes | None = None
    raw_content_type: str | None = None
    thread_keys: list[str] = field(default_factory=list)  # e.g. In-Reply-To / References ids
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    # Set by the channel: no acknowledgement (auto-reply, bounce, own address, opt-out keyword...)
    suppress_acknowledgement_reason: str | None = None
    # Set by the channel when it could not read the message: stored and sent to triage_review.
    parse_error: str | None = None
    mailbox_hint: str | None = None  # e.g. "repairs" mailbox default hint
    ack_channel: str | None = None  # channel to acknowledge on, when not the inbound channel
    metadata: dict[str, Any] = field(default_factory=dict)  # facts the channel itself established
    # What a sending system says about its own message (API `metadata`): kept as data only, never
    # read as the system's own state.
    client_metadata: dict[str, Any] = field(default_factory=dict)
