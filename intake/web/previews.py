"""What a queue row shows of a message: the resident's own words, not "Hi," or the agent's script.

The prepared text (what the model read: quoted replies, signatures and the call agent's turns already
removed) is the better source; the original body is the fallback for items not yet prepared.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment

PREVIEW_LENGTH = 110
# A line that only greets or addresses someone ("Hi,", "Dear Sir/Madam", "Good morning team") says
# nothing about what the message is for.
GREETING_ONLY = re.compile(
    r"^(hi|hello|hey|hiya|dear|good (morning|afternoon|evening)|to whom it may concern|morning|afternoon)"
    r"\b[^.!?]{0,40}[,:!.]?$",
    re.IGNORECASE,
)
SPEAKER_LABEL = re.compile(r"^\s*(\[[\d:]+\]\s*)?(agent|advisor|adviser|operator|caller|tenant|customer|resident|speaker \d)\s*:\s*", re.IGNORECASE)
AGENT_LABEL = re.compile(r"^\s*(\[[\d:]+\]\s*)?(agent|advisor|adviser|operator)\s*:", re.IGNORECASE)


def message_preview(prepared_text: str | None, body: str | None, limit: int = PREVIEW_LENGTH) -> str:
    for source in (prepared_text, body):
        words = _first_meaningful_line(source or "")
        if words:
            return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"
    return ""


def _first_meaningful_line(text: str) -> str:
    for line in text.splitlines():
        if AGENT_LABEL.match(line):
            continue
        stripped = SPEAKER_LABEL.sub("", line).strip()
        if not stripped or GREETING_ONLY.match(stripped):
            continue
        return stripped
    return ""


def _preview_filter(item: Any, limit: int = PREVIEW_LENGTH) -> str:
    return message_preview(getattr(item, "prepared_text", None), getattr(item, "body", None), limit)


def install(environment: Environment) -> None:
    environment.filters["preview"] = _preview_filter
