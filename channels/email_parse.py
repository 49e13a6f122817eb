"""Raw email bytes → `InboundMessage`, with the standard `email` package (policy `default`).

`parse_email` never raises: whatever arrives is kept (the raw bytes travel with the message), and a
message that cannot be read comes back with `parse_error` saying why, so the pipeline stores it and
sends it to triage_review instead of dropping it.

The readable body: in multipart/alternative the plain-text part unless it is a stub of the HTML one;
HTML-only mail converted with inscriptis; text parts of multipart/mixed joined in order; a message
forwarded as an attachment shown under a "Forwarded message" line. Every other part — photos,
PDFs, winmail.dat, calendar invites, signatures — is an attachment (name, type, size, SHA-256;
the bytes are dropped above the size limit, the metadata kept).
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32, default
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from channels.email_automatic import BOUNCE, AutomaticMail, detect_automatic
from channels.email_bounce import read_bounce
from channels.email_headers import (
    clean_header_text,
    content_message_id,
    first_address,
    message_ids,
    normalise_message_id,
    safe_filename,
)
from channels.email_text import calendar_text, decode_bytes, html_charset, html_to_text, tidy, unflow
from channels.message import Attachment, InboundMessage

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_BODY_CHARS = 1_000_000  # longer bodies are cut; the raw copy keeps everything
MAX_MIME_DEPTH = 20
MAX_ATTACHMENTS = 200
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
ENCRYPTED_TYPES = {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"}
FORWARDED_TYPES = {"message/rfc822", "message/global"}
_BOUNDARY_LINE = re.compile(r"^--([^\s-][^\s]{0,69}?)(--)?[ \t]*$", re.M)


def parse_email(
    raw: bytes,
    *,
    mailbox_hint: str | None = None,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    received_at: datetime | None = None,
) -> InboundMessage:
    """Read one email. `received_at` (the IMAP INTERNALDATE) wins over the sender's Date header."""
    raw = bytes(raw) if not isinstance(raw, bytes) else raw
    try:
        return _EmailReader(raw, max_attachment_bytes).read(
            mailbox_hint=mailbox_hint, received_at=received_at
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


class _EmailReader:
    """One pass over one message, collecting its text, attachments and what went wrong."""

    def __init__(self, raw: bytes, max_attachment_bytes: int) -> None:
        self.raw = raw
        self.max_attachment_bytes = max_attachment_bytes
        self.message: EmailMessage = BytesParser(policy=default).parsebytes(raw)  # type: ignore[assignment]
        self.attachments: list[Attachment] = []
        self.over_limit: list[str] = []
        self.notes: list[str] = []  # charset guesses and similar: kept, not errors
        self.problems: list[str] = []  # reasons a person must read the message
        self.encrypted = False
        self.calendars: list[str] = []  # invitations, shown when the message has no other text
        # Policy `default` parses a header again on every access: each part's are read once here.
        self._types: dict[int, str] = {}
        self._params: dict[int, dict[str, str]] = {}
        self._filenames: dict[int, str | None] = {}
        self._rebuilt: list[Message] = []  # salvaged parts stay alive, so their ids stay unique

    # --- the whole message -------------------------------------------------------------------

    def read(self, *, mailbox_hint: str | None, received_at: datetime | None) -> InboundMessage:
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
            received_at=received_at or self._date(headers.get("date")),
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

    # --- each part's MIME headers, parsed once -------------------------------------------------

    def _type(self, part: Message) -> str:
        key = id(part)
        if key not in self._types:
            try:
                self._types[key] = part.get_content_type()
            except Exception:  # an unparseable Content-Type: treat the part as opaque bytes
                self._types[key] = "application/octet-stream"
        return self._types[key]

    def _param(self, part: Message, name: str) -> str | None:
        key = id(part)
        if key not in self._params:
            try:
                params = getattr(part.get("Content-Type"), "params", None) or {}
                self._params[key] = {str(k).lower(): str(v) for k, v in params.items()}
            except Exception:  # an unparseable Content-Type has no usable parameters
                self._params[key] = {}
        return self._params[key].get(name)

    def _charset(self, part: Message) -> str | None:
        charset = self._param(part, "charset")
        return charset.strip().lower() if charset else None

    def _filename(self, part: Message) -> str | None:
        key = id(part)
        if key not in self._filenames:
            try:
                self._filenames[key] = part.get_filename()
            except Exception:  # a malformed RFC 2231 parameter
                self._filenames[key] = None
        return self._filenames[key]

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
                return raw_value
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
    def _date(value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        now = datetime.now(UTC)
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

    # --- the body ----------------------------------------------------------------------------

    def _body(self, message: EmailMessage, *, is_report: bool) -> str:
        texts = self._report(message) if is_report else self._readable(message, 0)
        if not any(text.strip() for text in texts):
            texts = self.calendars
        body = tidy("\n\n".join(text for text in texts if text.strip()))
        if len(body) > MAX_BODY_CHARS:
            body = (
                body[:MAX_BODY_CHARS] + "\n\n[… the text is cut here: the full message is kept as received]"
            )
        return body

    def _report(self, message: Message) -> list[str]:
        """A delivery or read report: its first (human-readable) part is the text; the rest attached."""
        payload = message.get_payload()
        children = (
            [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []
        )
        if not children:
            return self._readable(message, 1)
        texts = self._readable(children[0], 1)
        for child in children[1:]:
            self._attach(child)
        return texts

    def _readable(self, part: Message, depth: int) -> list[str]:
        if depth > MAX_MIME_DEPTH:
            self.problems.append(f"MIME parts nested deeper than {MAX_MIME_DEPTH} levels")
            return []
        content_type = self._type(part)
        if content_type in ENCRYPTED_TYPES:
            self.encrypted = True
            self._attach(part)
            return []
        if content_type in FORWARDED_TYPES:
            return self._forwarded(part, depth)
        if content_type.startswith("message/"):
            self._attach(part)
            return []
        if part.is_multipart():
            children = [child for child in part.get_payload() if isinstance(child, Message)]  # type: ignore[union-attr]
            if content_type == "multipart/alternative":
                return self._alternative(children, depth)
            return [text for child in children for text in self._readable(child, depth + 1)]
        if content_type.startswith("multipart/"):
            return self._salvage(part, depth)
        if self._is_attachment(part):
            self._attach(part)
            return []
        if content_type == "text/plain" or content_type in ("text/enriched", "text/richtext"):
            return [self._plain(part)]
        if content_type == "text/html":
            return [html_to_text(self._html(part))]
        if content_type == "text/calendar":
            self.calendars.append(calendar_text(self._payload(part)))
        self._attach(part)  # text/calendar, text/x-vcard, images, application/*: kept as files
        return []

    def _alternative(self, children: list[Message], depth: int) -> list[str]:
        """Plain text unless it is an empty or cut-down stub of the HTML; the richest otherwise."""
        plain: str | None = None
        richest: str | None = None
        for child in children:
            text = "\n\n".join(self._readable(child, depth + 1)).strip()
            if not text:
                continue
            if self._type(child) == "text/plain" and plain is None:
                plain = text
            else:
                richest = text
        if plain is not None and (richest is None or len(plain) >= 0.25 * len(richest)):
            return [plain]
        return [richest] if richest is not None else ([plain] if plain else [])

    def _forwarded(self, part: Message, depth: int) -> list[str]:
        """A message attached whole (forward as attachment): kept as a file and shown in the text."""
        self._attach(part, fallback_name="forwarded-message.eml")
        payload = part.get_payload()
        if not isinstance(payload, list) or not payload or not isinstance(payload[0], Message):
            return []
        inner = payload[0]
        lines = ["---------- Forwarded message ----------"]
        for header in ("From", "Date", "Subject", "To"):
            try:
                value = inner.get(header)
            except Exception:
                value = None
            if value:
                lines.append(f"{header}: {clean_header_text(value)}")
        text = "\n\n".join(self._readable(inner, depth + 1))
        return ["\n".join(lines) + "\n\n" + text]

    def _salvage(self, part: Message, depth: int) -> list[str]:
        """A multipart whose boundary is missing or wrong: guess the boundary from the body's own
        `--boundary` lines and read that; failing that, show the body as text."""
        payload = part.get_payload()
        text = payload if isinstance(payload, str) else ""
        counts = Counter(match.group(1) for match in _BOUNDARY_LINE.finditer(text))
        if counts:
            boundary = counts.most_common(1)[0][0]
            header = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode()
            rebuilt = BytesParser(policy=default).parsebytes(header + text.encode("utf-8", "surrogateescape"))
            if rebuilt.is_multipart():
                self._rebuilt.append(rebuilt)
                self.notes.append(f"MIME boundary guessed as {boundary!r}")
                return self._readable(rebuilt, depth + 1)
        data = text.encode("utf-8", "surrogateescape")
        return [decode_bytes(data, self._charset(part))[0]]

    def _is_attachment(self, part: Message) -> bool:
        try:
            disposition = part.get_content_disposition()
        except Exception:  # an unparseable Content-Disposition: decide by the file name alone
            disposition = None
        return disposition == "attachment" or bool(self._filename(part))

    def _plain(self, part: Message) -> str:
        text = self._decoded(part, self._charset(part))
        if (self._param(part, "format") or "").lower() == "flowed":
            text = unflow(
                text.replace("\r\n", "\n"), delsp=(self._param(part, "delsp") or "").lower() == "yes"
            )
        return text

    def _html(self, part: Message) -> str:
        data = self._payload(part)
        return self._decode(data, self._charset(part) or html_charset(data))

    def _decoded(self, part: Message, charset: str | None) -> str:
        return self._decode(self._payload(part), charset)

    def _decode(self, data: bytes, charset: str | None) -> str:
        text, problem = decode_bytes(data, charset)
        if problem:
            self.notes.append(problem)
        return text

    @staticmethod
    def _payload(part: Message) -> bytes:
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""

    # --- attachments -------------------------------------------------------------------------

    def _attach(self, part: Message, *, fallback_name: str | None = None) -> None:
        if len(self.attachments) >= MAX_ATTACHMENTS:
            self.notes.append(f"more than {MAX_ATTACHMENTS} attachments: the rest are only in the raw copy")
            return
        content_type = self._type(part)
        data = _part_bytes(part)
        digest = hashlib.sha256(data).hexdigest()
        if any(
            existing.sha256 == digest and existing.content_type == content_type
            for existing in self.attachments
        ):
            return  # the same file in two alternatives
        number = len(self.attachments) + 1
        extension = mimetypes.guess_extension(content_type) or (
            ".txt" if content_type.startswith(("text/", "message/")) else ".bin"
        )
        name = safe_filename(self._filename(part), fallback_name or f"attachment-{number}{extension}")
        over_limit = len(data) > self.max_attachment_bytes
        if over_limit:
            self.over_limit.append(name)
        self.attachments.append(
            Attachment(
                filename=name,
                content_type=content_type[:128],
                size=len(data),
                sha256=digest,
                content=None if over_limit else data,
            )
        )


def _part_bytes(part: Message) -> bytes:
    """A part's content after transfer decoding; an attached message as it would be written out."""
    payload = part.get_payload()
    if isinstance(payload, list):
        chunks = []
        for inner in payload:
            if isinstance(inner, Message):
                chunks.append(_message_bytes(inner))
        return b"\n".join(chunks)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _message_bytes(message: Message) -> bytes:
    """An attached message written out; the old policy (which never refolds) when the new one fails."""
    for policy in (default, compat32):
        try:
            return message.as_bytes(policy=policy)
        except Exception:  # headers the generator cannot write back: try the next policy
            continue
    return b""


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
