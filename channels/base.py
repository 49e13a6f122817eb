"""The two interfaces every channel adapter implements: inbound (`parse`) and outbound (`send`).

Adapters are plain: they know no web framework, no tables and no pipeline. An inbound adapter turns
the bytes that arrived (and their headers) into an `InboundMessage`, or a `Refused` saying why not;
the HTTP endpoint that received them (intake/api/inbound.py) keeps a refused payload and ingests a
message. An outbound adapter sends one rendered `OutboundMessage` and returns a `Receipt`, or raises
`TemporarySendError` / `PermanentSendError`. The adapters are named in channels/registry.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from channels.message import InboundMessage


@dataclass(frozen=True)
class Refused:
    """An inbound payload an adapter could not turn into a message: kept with `reason`, answered 422."""

    reason: str
    channel: str
    content_type: str = "application/octet-stream"


class InboundAdapter(Protocol):
    """One per way in (a Twilio webhook, the items API, …): the payload as a message, or why not."""

    @property
    def channel(self) -> str: ...

    def parse(self, raw: bytes, headers: Mapping[str, str]) -> InboundMessage | Refused: ...


@dataclass(frozen=True)
class OutboundMessage:
    """A rendered acknowledgement ready to go out on one channel."""

    acknowledgement_id: int
    reference: str
    recipient: str  # email address or E.164 number
    subject: str | None
    body_text: str
    written_at: datetime  # when intake wrote it, by the runtime's clock: the email's Date header
    body_html: str | None = None
    in_reply_to: str | None = None  # the inbound Message-ID, for email threading
    references: tuple[str, ...] = ()
    # False for a reply a person wrote: RFC 3834 keeps `Auto-Submitted` for machine-written mail.
    automatic: bool = True


@dataclass(frozen=True)
class Receipt:
    """What the provider said when it took the message."""

    provider_id: str | None  # SMTP Message-ID, Twilio message SID
    status: str = "sent"  # sent / queued


class TemporarySendError(Exception):
    """The provider may accept a retry (timeout, 5xx, 4xx SMTP)."""


class UncertainSendError(Exception):
    """The provider may have accepted it: the connection was lost, or timed out, after the message
    was handed over. Sending again could reach the resident twice, so it is not retried: the
    acknowledgement is marked `unknown` for a person to check."""


class PermanentSendError(Exception):
    """Retrying will not help (unsubscribed recipient, landline, rejected address)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class OutboundAdapter(Protocol):
    """One per outbound channel ("email", "sms"): sends one message or raises."""

    name: str

    def send(self, acknowledgement: OutboundMessage) -> Receipt: ...


# The names the senders were first written against; the same types.
OutboundAcknowledgement = OutboundMessage
SendResult = Receipt
AcknowledgementSender = OutboundAdapter
