"""Raw email bytes → `InboundMessage`, with the standard `email` package (policy `default`).

`parse_email` never raises: whatever arrives is kept (the raw bytes travel with the message), and a
message that cannot be read comes back with `parse_error` saying why, so the pipeline stores it and
sends it to triage_review instead of dropping it.

The headers (sender, thread keys, dates, bounces, automatic mail) are read here; the MIME body walk
— which parts are the readable text and which are attachments — is channels/email_body.py.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from channels.email_automatic import BOUNCE, AutomaticMail, detect_automatic
from channels.email_body import MAX_BODY_CHARS, MimeBodyWalker
from channels.email_bounce import read_bounce
from channels.email_headers import (
    clean_header_text,
    content_message_id,
    first_address,
    message_ids,
    normalise_message_id,
)
from channels.email_text import decode_bytes, tidy
from channels.message import InboundMessage

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_THREAD_KEYS = 50
# Headers copied onto the item for staff to see (decoded, one line each).
KEPT_HEADERS = (
    "From", "To", "Cc", "Reply-To", "Sender", "Subject", "Date", "Message-ID", "In-Reply-To",
    "References", "Return-Path", "Auto-Submitted", "X-Auto-Response-Suppress", "Precedence",
    "List-Id", "Content-Type", "X-Mailer", "User-Agent",
)  # fmt: skip
# Defects after which the text may be incomplete or wrong: a person should look at the message.
STRUCTURAL_DEFECTS = {
    "NoBoundaryInMultipartDefect",
    "StartBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "MultipartConversionError",
}


def parse_email(
    raw: bytes,
    *,
    mailbox_hint: str | None = None,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> InboundMessage:
    """Read one email. `received_at` (the IMAP INTERNALDATE) wins over the sender's Date header.

    `now` is the caller's clock (the runtime's, handed down): the Date header is the sender's own
    clock, so it is believed only when checked against ours. Without `now` (and without
    `received_at`) the message has no `received_at` and the pipeline stamps it as it takes it in.
    """
    raw = bytes(raw) if not isinstance(raw, bytes) else raw
    try:
        return _EmailReader(raw, max_attachment_bytes).read(
            mailbox_hint=mailbox_hint, received_at=received_at, now=now
        )
    except Exception as error:  # never lose a message to a parser bug: keep it for a person
        # The error's text can quote a header (an address, a name): the log gets its type only.
        log.warning("email could not be parsed (%s); stored for review", type(error).__name__)
        return unreadable_message(
            raw,
            reason=f"the message could not be parsed ({type(error).__name__}: {error})",
            mailbox_hint=mailbox_hint,
            received_at=received_at,
        )


def unreadable_message(
    raw: bytes, *, reason: str, mailbox_hint: str | None = None, received_at: datetime | None = None
) -> InboundMessage:
    """The message as far as it can be read without a parser: stored, flagged, never dropped."""
    head = raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message_id = re.search(rb"^message-id:\s*(<[^<>\s]+>)", head, re.I | re.M)
    subject = re.search(rb"^subject:[ \t]*(.*)$", head, re.I | re.M)
    sender = re.search(rb"^from:[ \t]*(.*)$", head, re.I | re.M)
    name, address = first_address(sender.group(1).decode("utf-8", "replace") if sender else None)
    external_id = normalise_message_id(message_id.group(1).decode("ascii", "replace")) if message_id else None
    return InboundMessage(
        channel="email",
        external_id=external_id or content_message_id(raw),
        body=tidy(raw[:MAX_BODY_CHARS].decode("utf-8", "replace")),
        received_at=received_at,
        subject=clean_header_text(subject.group(1).decode("utf-8", "replace")) if subject else None,
        sender_address=address,
        sender_name=name,
        sender_email=address,
        raw=raw,
        raw_content_type="message/rfc822",
        parse_error=reason,
        mailbox_hint=mailbox_hint,
    )


class _EmailReader(MimeBodyWalker):
    """One pass over one message: its headers here, its MIME body walk in channels/email_body.py."""

    def __init__(self, raw: bytes, max_attachment_bytes: int) -> None:
        super().__init__(max_attachment_bytes)
        self.raw = raw
        self.message: EmailMessage = BytesParser(policy=default).parsebytes(raw)

    # --- the whole message -------------------------------------------------------------------

    def read(
        self, *, mailbox_hint: str | None, received_at: datetime | None, now: datetime | None
    ) -> InboundMessage:
        message = self.message
        headers = self._all_headers()
        if not headers:
            self.problems.append("no email headers found: this does not look like an email")
        subject = clean_header_text(headers.get("subject", "")) or None
        name, address = self._sender()
        is_report = self._type(message) == "multipart/report"
        body = self._body(message, is_report=is_report)
        defects = self._defects()
        structural = [defect for defect in defects if defect.split(":", 1)[0] in STRUCTURAL_DEFECTS]
        if structural:
            self.problems.append(
                f"broken MIME structure ({', '.join(structural)}): the text shown may be incomplete"
            )
        if self.encrypted:
            self.problems.append("the message is encrypted (S/MIME or PGP) and cannot be read here")
        automatic = detect_automatic(
            headers,
            sender_address=address,
            subject=subject,
            content_type=self._type(message),
            report_type=self._param(message, "report-type") if is_report else None,
        )
        return InboundMessage(
            channel="email",
            external_id=normalise_message_id(headers.get("message-id")) or content_message_id(self.raw),
            body=body,
            received_at=received_at or self._date(headers.get("date"), now=now),
            subject=subject,
            sender_address=address,
            sender_name=name,
            sender_email=address,
            raw=self.raw,
            raw_content_type="message/rfc822",
            thread_keys=self._thread_keys(headers),
            headers={
                header: clean_header_text(headers[header.lower()], limit=2000)
                for header in KEPT_HEADERS
                if headers.get(header.lower())
            },
            attachments=self.attachments,
            suppress_acknowledgement_reason=automatic.reason if automatic else None,
            parse_error="; ".join(dict.fromkeys(self.problems)) or None,
            mailbox_hint=mailbox_hint,
            metadata=self._metadata(address, automatic, defects),
        )

    def _metadata(
        self, address: str | None, automatic: AutomaticMail | None, defects: list[str]
    ) -> dict[str, Any]:
        """What staff may want to see besides the text; only keys that have something to say."""
        metadata: dict[str, Any] = {"to": self._addresses("to"), "cc": self._addresses("cc")}
        reply_to = self._mailbox("reply-to")[1]
        if reply_to and reply_to != address:
            metadata["reply_to"] = reply_to
        if automatic is not None:
            metadata["automatic"] = automatic.kind
        if automatic is not None and automatic.kind == BOUNCE:
            self._read_bounce(metadata)
        if self.over_limit:
            metadata["attachments_over_limit"] = self.over_limit
        if self.notes:
            metadata["decode_notes"] = list(dict.fromkeys(self.notes))[:20]
        if defects:
            metadata["mime_defects"] = defects[:20]
        if self.encrypted:
            metadata["encrypted"] = True
        return metadata

    def _read_bounce(self, metadata: dict[str, Any]) -> None:
        bounce = read_bounce(self.message, self.raw)
        metadata["bounce"] = {
            "actions": bounce.actions,
            "recipients": bounce.recipients[:10],
            "status": bounce.status,
            "diagnostic": bounce.diagnostic,
            "original_message_id": bounce.original_message_id,
        }
        if bounce.original_message_id and bounce.is_failure:
            metadata["bounce_of"] = bounce.original_message_id

    # --- headers -----------------------------------------------------------------------------

    def _all_headers(self) -> dict[str, str]:
        """Lower-case name → decoded value of its first occurrence (RFC 2047 words and raw 8-bit
        text both read), straight from the raw header so a malformed one cannot fail the message."""
        found: dict[str, str] = {}
        for raw_name, raw_value in self.message.raw_items():
            name = raw_name.strip().lower()
            if name and name not in found:
                found[name] = _decode_words(raw_value)
        return found

    def _sender(self) -> tuple[str | None, str | None]:
        """The author: From, else Sender, else Return-Path."""
        for header in ("from", "sender", "return-path"):
            name, address = self._mailbox(header)
            if address is not None:
                return name, address
        return None, None

    def _mailbox(self, header: str) -> tuple[str | None, str | None]:
        """(display name, address) of the first mailbox in a header. Addresses are split out of the
        raw value before any encoded word is decoded, so a display name can never pose as one."""
        raw = self._raw_header(header)
        for display_name, address in getaddresses([(raw or "").replace("\r", " ").replace("\n", " ")]):
            address = clean_header_text(address, limit=320).lower()
            if "@" in address and " " not in address and not _has_surrogates(address):
                return clean_header_text(_decode_words(display_name), limit=200) or None, address
        return None, None

    def _raw_header(self, name: str) -> str | None:
        for raw_name, raw_value in self.message.raw_items():
            if raw_name.strip().lower() == name:
                return str(raw_value)
        return None

    def _addresses(self, header: str) -> list[str]:
        values = [
            value.replace("\r", " ").replace("\n", " ")
            for name, value in self.message.raw_items()
            if name.lower() == header
        ]
        addresses = [clean_header_text(address, limit=320).lower() for _, address in getaddresses(values)]
        usable = [address for address in addresses if "@" in address and " " not in address]
        return list(dict.fromkeys(usable))[:50]

    def _thread_keys(self, headers: dict[str, str]) -> list[str]:
        in_reply_to = message_ids(headers.get("in-reply-to"))
        references = message_ids(headers.get("references"))
        # The most recent messages of a long thread are at the end of References.
        return list(dict.fromkeys(in_reply_to + references[::-1]))[:MAX_THREAD_KEYS]

    @staticmethod
    def _date(value: str | None, *, now: datetime | None) -> datetime | None:
        if not value or now is None:
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        # A sender's clock a day or more ahead, or years behind, would put deadlines in the wrong place.
        if parsed > now + timedelta(days=1) or parsed.year < 2000:
            return None
        return parsed

    def _defects(self) -> list[str]:
        found: list[str] = []
        for part in self.message.walk():
            for defect in getattr(part, "defects", []):
                found.append(f"{type(defect).__name__}: {defect}".rstrip(": "))
        return list(dict.fromkeys(found))


def _decode_words(raw: str) -> str:
    """RFC 2047 encoded words of a raw header value decoded; raw 8-bit bytes read as UTF-8 (or
    Windows-1252 when they are not UTF-8)."""
    text, _ = decode_bytes(raw.encode("utf-8", "surrogateescape"), "utf-8")
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # a malformed encoded word: the text as it stands
        return text


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)
