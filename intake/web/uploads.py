"""Attachments on the contact form: an allow-list of types, checked by content as well as by name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from channels.message import Attachment

# extension → (content type we store, test on the first bytes)
ALLOWED_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".heic": "image/heic",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
ALLOWED_NAMES = "PDF, JPG, PNG, HEIC, DOC or DOCX"
HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis")


class UploadRefused(ValueError):
    """The file is not one we accept; the message is written for the resident."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


def _content_matches(extension: str, head: bytes) -> bool:
    if extension == ".pdf":
        return head.startswith(b"%PDF-")
    if extension in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension == ".heic":
        return head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS
    if extension == ".doc":
        return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # OLE compound file
    if extension == ".docx":
        return head.startswith(b"PK\x03\x04")  # a zip container
    return False


def safe_filename(filename: str) -> str:
    # Browsers on Windows may send a full path; keep the last part, printable, at most 120 characters.
    name = PurePath(filename.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"/\\|?*').strip(" .")
    return name[-120:] or "attachment"


def check_upload(upload: Upload, *, max_bytes: int) -> Attachment:
    """An `Attachment` for the pipeline, or `UploadRefused` saying what is wrong in plain words."""
    name = safe_filename(upload.filename)
    extension = PurePath(name.lower()).suffix
    if extension not in ALLOWED_TYPES:
        raise UploadRefused(f"{name} must be a {ALLOWED_NAMES}")
    if len(upload.content) == 0:
        raise UploadRefused(f"{name} is empty")
    if len(upload.content) > max_bytes:
        raise UploadRefused(f"{name} must be smaller than {max_bytes // (1024 * 1024)}MB")
    if not _content_matches(extension, upload.content[:16]):
        raise UploadRefused(f"{name} is not a real {extension[1:].upper()} file")
    return Attachment(
        filename=name,
        content_type=ALLOWED_TYPES[extension],
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        content=upload.content,
    )
