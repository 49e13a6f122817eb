"""Is there anything to classify? Empty, emoji-only and binary-garbage input are caught here."""

from __future__ import annotations

import unicodedata

# More than this share of control / replacement / private-use characters means binary garbage.
MAX_GARBAGE_SHARE = 0.10
SAMPLE_CHARS = 5_000


def clean_control_characters(text: str) -> str:
    """Drop NULs and other control characters (not newlines/tabs) that break tokenisers and logs."""
    return "".join(char for char in text if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cs"))


def unusable_reason(text: str) -> str | None:
    """Why `text` cannot be classified, or None when it can."""
    if not text or not text.strip():
        return "empty message"
    sample = text[:SAMPLE_CHARS]
    garbage = sum(
        1 for char in sample
        if char == "\ufffd" or (unicodedata.category(char) in ("Cc", "Co", "Cs", "Cn") and char not in "\n\r\t")
    )
    if garbage / len(sample) > MAX_GARBAGE_SHARE:
        return "unreadable text (binary or corrupted data)"
    if not any(char.isalpha() for char in sample) and not any(char.isalpha() for char in text[SAMPLE_CHARS:]):
        return "no words to classify (only numbers, symbols or emoji)"
    return None
