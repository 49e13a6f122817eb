"""The MIME body walk of one email: which parts are the readable text, which are attachments.

In multipart/alternative the plain-text part unless it is a stub of the HTML one; HTML-only mail
converted with inscriptis; text parts of multipart/mixed joined in order; a message forwarded as an
attachment shown under a "Forwarded message" line; encrypted and broken parts noted. Every other
part is an attachment (name, type, size, SHA-256; the bytes dropped above the size limit).
`MimeBodyWalker` is the half of channels/email_parse.py's reader that does this.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from collections import Counter
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32, default

from channels.email_headers import (
    clean_header_text,
    safe_filename,
)
from channels.email_text import calendar_text, decode_bytes, html_charset, html_to_text, tidy, unflow
from channels.message import Attachment

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 1_000_000  # longer bodies are cut; the raw copy keeps everything
MAX_MIME_DEPTH = 20
MAX_ATTACHMENTS = 200
ENCRYPTED_TYPES = {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"}
FORWARDED_TYPES = {"message/rfc822", "message/global"}
_BOUNDARY_LINE = re.compile(r"^--([^\s-][^\s]{0,69}?)(--)?[ \t]*$", re.M)


class MimeBodyWalker:
    """Walks a message's MIME tree once, collecting its text, attachments and what went wrong."""

    def __init__(self, max_attachment_bytes: int) -> None:
        self.max_attachment_bytes = max_attachment_bytes
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
            children = [child for child in part.get_payload() if isinstance(child, Message)]
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
