"""Inbound SMS: a Twilio messaging webhook form → `InboundMessage`. Pure: no database, no network.

Twilio joins the parts of a concatenated text before calling us, so one webhook is one message
(`NumSegments` says how many parts it was). MMS pictures stay at Twilio: their URLs are recorded so
staff can open them, but nothing is downloaded here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from channels.base import Refused
from channels.message import InboundMessage
from channels.phone import normalise_phone
from channels.sms_keywords import keyword_of

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_MEDIA = 10  # Twilio's own limit on media per message


def message_from_twilio_form(
    form: Mapping[str, str], *, raw: bytes, received_at: datetime | None = None
) -> InboundMessage:
    """The text as the pipeline takes it: E.164 numbers, MessageSid as the external id.

    An empty body is kept (a picture on its own, or a blank text): it is still something a
    resident sent. A body that is nothing but a carrier keyword (STOP, START, HELP…) is marked in
    `metadata["sms_keyword"]`, which the pipeline acts on instead of triaging it.
    """
    sender_raw = form.get("From", "").strip()
    sender = normalise_phone(sender_raw)
    body = form.get("Body", "")
    metadata: dict[str, Any] = {
        "to": normalise_phone(form.get("To")) or form.get("To") or None,
        "num_segments": _int(form.get("NumSegments"), default=1),
        "account_sid": form.get("AccountSid") or None,
        "messaging_service_sid": form.get("MessagingServiceSid") or None,
        "from_country": form.get("FromCountry") or None,
    }
    media = media_of(form)
    if media:
        metadata["media"] = media
    keyword = keyword_of(body)
    if keyword:
        metadata["sms_keyword"] = keyword
    return InboundMessage(
        channel="sms",
        external_id=(form.get("MessageSid") or form.get("SmsSid") or "").strip(),
        body=body,
        # None: the pipeline stamps it with the runtime's clock as it takes the message in.
        received_at=received_at,
        # A short code or an alphanumeric sender id is not a phone number: kept as it came.
        sender_address=sender or sender_raw or None,
        sender_phone=sender,
        raw=raw,
        raw_content_type=FORM_CONTENT_TYPE,
        metadata={key: value for key, value in metadata.items() if value is not None},
    )


def media_of(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The MMS attachments Twilio announces: `NumMedia`, `MediaUrlN`, `MediaContentTypeN`."""
    count = min(_int(form.get("NumMedia"), default=0), MAX_MEDIA)
    media: list[dict[str, str]] = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}")
        if url:
            media.append(
                {"url": url, "content_type": form.get(f"MediaContentType{index}", "application/octet-stream")}
            )
    return media


def first_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """A form as a plain mapping; Twilio sends each field once, so the first value is the value."""
    values: dict[str, str] = {}
    for key, value in pairs:
        values.setdefault(key, value)
    return values


def _int(value: str | None, *, default: int) -> int:
    try:
        return max(0, int(value)) if value not in (None, "") else default
    except ValueError:
        return default


def form_pairs(raw: bytes) -> list[tuple[str, str]]:
    """A webhook's form body as (name, value) pairs in order; UnicodeDecodeError when not UTF-8."""
    return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)


def parse_form(raw: bytes) -> dict[str, str] | None:
    """A webhook's form fields, or None when the body is not UTF-8 form data."""
    try:
        return first_values(form_pairs(raw))
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class TwilioSmsAdapter:
    """Twilio's inbound-text webhook (a signed form) as a message."""

    channel: str = "sms"

    def parse(self, raw: bytes, headers: Mapping[str, str]) -> InboundMessage | Refused:
        form = parse_form(raw)
        if form is None:
            return Refused("a Twilio webhook body must be UTF-8 form data", self.channel, FORM_CONTENT_TYPE)
        return self.from_form(form, raw=raw)

    def from_form(self, form: Mapping[str, str], *, raw: bytes) -> InboundMessage:
        """The message from a form already read (the webhook parsed it once to check its signature)."""
        return message_from_twilio_form(form, raw=raw)
