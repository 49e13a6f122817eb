"""Delivery status notifications: which of our messages bounced, and why.

A standard DSN (RFC 3464) is a multipart/report with a message/delivery-status part and the
original message or its headers; older mailers (qmail's "failure notice", some Exchange versions)
send plain text with the original headers pasted in. Either way the original Message-ID is what
links the bounce to the acknowledgement that bounced (`metadata["bounce_of"]`). A "delayed"
notification is not a bounce: the message may still arrive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.policy import default

from channels.email_headers import clean_header_text, normalise_message_id

_MESSAGE_ID_LINE = re.compile(rb"^[ \t]*message-id[ \t]*:[ \t]*(<[^<>\s]+>)", re.I | re.M)
FAILED_ACTIONS = frozenset({"failed"})
MAX_SCAN_BYTES = 1_000_000


@dataclass(frozen=True)
class BounceDetails:
    original_message_id: str | None
    actions: list[str] = field(default_factory=list)  # failed / delayed / delivered / relayed / expanded
    recipients: list[str] = field(default_factory=list)
    status: str | None = None  # e.g. 5.1.1
    diagnostic: str | None = None

    @property
    def is_failure(self) -> bool:
        """True unless the report only says the message is delayed or was delivered."""
        return not self.actions or bool(FAILED_ACTIONS.intersection(self.actions))


def read_bounce(message: EmailMessage, raw: bytes) -> BounceDetails:
    actions: list[str] = []
    recipients: list[str] = []
    status = diagnostic = None
    original: str | None = None
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in _status_blocks(part):
                if block.get("Action"):
                    actions.append(clean_header_text(block["Action"], limit=32).lower())
                recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
                if recipient:
                    recipients.append(clean_header_text(str(recipient).rpartition(";")[2], limit=320))
                status = status or (
                    clean_header_text(block["Status"], limit=32) if block.get("Status") else None
                )
                if block.get("Diagnostic-Code") and diagnostic is None:
                    diagnostic = clean_header_text(block["Diagnostic-Code"], limit=500)
        elif original is None and content_type in ("message/rfc822", "message/global"):
            original = _message_id_of_attached(part)
        elif original is None and content_type in ("text/rfc822-headers", "message/rfc822-headers"):
            original = _message_id_of_headers(part)
    if original is None:
        original = _message_id_in_text(message, raw)
    return BounceDetails(
        original_message_id=original,
        actions=list(dict.fromkeys(actions)),
        recipients=list(dict.fromkeys(recipients)),
        status=status,
        diagnostic=diagnostic,
    )


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    if isinstance(payload, str):  # an unparsed block: read the fields ourselves
        return [HeaderParser(policy=default).parsestr(chunk) for chunk in re.split(r"\n\s*\n", payload)]
    return []


def _message_id_of_attached(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        for name, value in payload[0].raw_items():  # raw: a malformed id must not stop the search
            if name.lower() == "message-id":
                return normalise_message_id(value)
    return None


def _message_id_of_headers(part: Message) -> str | None:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    match = _MESSAGE_ID_LINE.search(data[:MAX_SCAN_BYTES])
    return normalise_message_id(match.group(1).decode("ascii", "replace")) if match else None


def _message_id_in_text(message: EmailMessage, raw: bytes) -> str | None:
    """A non-standard bounce: the first Message-ID line after the bounce's own headers."""
    own = next(
        (normalise_message_id(value) for name, value in message.raw_items() if name.lower() == "message-id"),
        None,
    )
    separator = re.search(rb"\r?\n\r?\n", raw)
    body = raw[separator.end() :] if separator else raw
    for match in _MESSAGE_ID_LINE.finditer(body[:MAX_SCAN_BYTES]):
        found = normalise_message_id(match.group(1).decode("ascii", "replace"))
        if found and found != own:
            return found
    return None
