"""HTML bodies → plain text with inscriptis, so markup never reaches the model or the rules."""

from __future__ import annotations

import re

from inscriptis import get_text

# A body is treated as HTML only when it has real markup, not a stray "<3" or "<ref 123>".
_HTML_MARKER = re.compile(
    r"<\s*(?:html|body|head|div|p|br|span|table|tr|td|font|b|i|strong|em|ul|ol|li|a\s|blockquote|meta|style)\b[^>]*>"
    r"|</\s*(?:html|body|div|p|span|table|td|font|b|i|strong|em|li|a|blockquote)\s*>",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_MARKER.search(text[:20_000]))


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: block elements become lines, entities are decoded."""
    text = get_text(html)
    # inscriptis indents nested blocks; the indentation carries no meaning for triage.
    return "\n".join(line.strip() for line in text.splitlines()).strip()
