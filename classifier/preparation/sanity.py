"""Is there anything to classify? Empty, emoji-only and binary-garbage input are caught here."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# More than this share of control / replacement / private-use characters means binary garbage.
MAX_GARBAGE_SHARE = 0.10
SAMPLE_CHARS = 5_000
# Control characters (category Cc) except tab and newline, and lone surrogates (Cs).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_ASCII_GARBAGE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LETTER = re.compile(r"[^\W\d_]")


def clean_control_characters(text: str) -> str:
    """Drop NULs and other control characters that break tokenisers and logs; keep line breaks."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _garbage_count(sample: str) -> int:
    if sample.isascii():  # the common case, without a Python loop over every character
        return len(_ASCII_GARBAGE.findall(sample))
    # Each distinct character is looked up once (a message uses a few dozen), not every character.
    return sum(
        count for char, count in Counter(sample).items()
        if char == "\ufffd" or (unicodedata.category(char) in ("Cc", "Co", "Cs", "Cn") and char not in "\n\r\t")
    )


def unusable_reason(text: str) -> str | None:
    """Why `text` cannot be classified, or None when it can."""
    if not text or not text.strip():
        return "empty message"
    sample = text[:SAMPLE_CHARS]
    if _garbage_count(sample) / len(sample) > MAX_GARBAGE_SHARE:
        return "unreadable text (binary or corrupted data)"
    if not _LETTER.search(text):
        return "no words to classify (only numbers, symbols or emoji)"
    return None
