"""Header values in and out: Message-IDs, addresses and text made safe to put in a header.

Everything in an inbound header was written by someone outside; nothing from it reaches an outgoing
header without passing through here (a CR or LF in a Subject would otherwise start a new header).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from email.headerregistry import Address
from email.utils import getaddresses

# A msg-id as RFC 5322 writes it, loosely: no spaces, brackets or control characters inside.
MESSAGE_ID = re.compile(r"<([^<>\s\x00-\x1f\x7f]+)>")
MAX_MESSAGE_ID = 500  # leaves room under the items.external_id limit (512)
MAX_HEADER_TEXT = 998  # RFC 5322's line limit; longer values are cut
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


def clean_header_text(value: object, *, limit: int = MAX_HEADER_TEXT) -> str:
    """One line of text: control characters (CR, LF, NUL, …) become spaces, runs of space collapse."""
    text = str(value) if value is not None else ""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from undecodable bytes
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    return text[:limit].rstrip()


def message_ids(value: str | None) -> list[str]:
    """Every <msg-id> in a header value (In-Reply-To, References), in order, without repeats."""
    if not value:
        return []
    found = [f"<{m}>" for m in MESSAGE_ID.findall(value) if len(m) + 2 <= MAX_MESSAGE_ID]
    return list(dict.fromkeys(found))


def normalise_message_id(value: str | None) -> str | None:
    """`<id@host>` from a Message-ID header; None when it holds nothing usable.

    Some mailers leave out the angle brackets: a bare `id@host` without spaces is accepted.
    """
    if not value:
        return None
    found = message_ids(value)
    if found:
        return found[0]
    bare = value.strip()
    if bare and "@" in bare and not _CONTROL.search(bare) and not re.search(r"[\s<>]", bare):
        return f"<{bare}>" if len(bare) + 2 <= MAX_MESSAGE_ID else None
    return None


def content_message_id(raw: bytes) -> str:
    """The id a message without a Message-ID is known by: the same bytes always give the same id."""
    return f"<sha256:{hashlib.sha256(raw).hexdigest()}@no-message-id>"


def is_valid_message_id(value: str | None) -> bool:
    return (
        bool(value) and MESSAGE_ID.fullmatch(value or "") is not None and len(value or "") <= MAX_MESSAGE_ID
    )


def first_address(value: str | None) -> tuple[str | None, str | None]:
    """(display name, lower-case address) of the first mailbox in an address header."""
    if not value:
        return None, None
    for name, address in getaddresses([value]):
        address = clean_header_text(address, limit=320).strip("<>").lower()
        if address and "@" in address and " " not in address:
            return clean_header_text(name, limit=200) or None, address
    return None, None


def safe_address(value: str) -> Address:
    """An outgoing recipient, or ValueError when it is not exactly one plain address."""
    if _CONTROL.search(value) or "," in value or ";" in value:
        raise ValueError(f"not a single email address: {value!r}")
    _, address = first_address(value)
    if address is None or address.count("@") != 1:
        raise ValueError(f"not an email address: {value!r}")
    local, _, domain = address.rpartition("@")
    if not local or not domain or "." not in domain or re.search(r"[\s\"()<>\[\]\\]", address):
        raise ValueError(f"not an email address: {value!r}")
    return Address(addr_spec=address)


def safe_filename(value: str | None, fallback: str) -> str:
    """An attachment name with no path, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", clean_header_text(value or "", limit=1000))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip(" .")
    return (name or fallback)[:255]
