"""The interface every outbound channel adapter implements, and the registry that names them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutboundAcknowledgement:
    """A rendered acknowledgement ready to go out on one channel."""

    acknowledgement_id: int
    reference: str
    recipient: str  # email address or E.164 number
    subject: str | None
    body_text: str
    body_html: str | None = None
    in_reply_to: str | None = None  # the inbound Message-ID, for email threading
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendResult:
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


class AcknowledgementSender(Protocol):
    """One per outbound channel ("email", "sms"): sends one acknowledgement or raises."""

    name: str

    def send(self, acknowledgement: OutboundAcknowledgement) -> SendResult: ...
