"""Which attachments can be shown on the case page, judged by their bytes, never by their name or the
type the sender claimed: images (PNG, JPEG, GIF, WebP) and PDFs. SVG and everything else stay downloads,
since they can carry script."""

from __future__ import annotations

import puremagic

PREVIEWABLE = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


def previewable_type(content: bytes | None) -> str | None:
    """The sniffed media type when it is one we show inline; None otherwise (including unreadable)."""
    if not content:
        return None
    try:
        sniffed = puremagic.from_string(content[:8192], mime=True)
    except (puremagic.PureError, ValueError):
        return None
    return sniffed if sniffed in PREVIEWABLE else None
