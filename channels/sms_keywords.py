"""The carrier keywords a text can consist of (STOP, START, HELP…), and spotting one. Pure data.

What the service does with a keyword (record an opt-out, answer HELP) lives in intake/opt_outs.py.
"""

from __future__ import annotations

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
# Not "YES": residents answer questions with it, and a reply must be triaged, not swallowed.
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})


def keyword_of(body: str | None) -> str | None:
    """The carrier keyword a text consists of, if it is nothing but one (case and spaces ignored)."""
    word = (body or "").strip().strip(".!").upper()
    if word in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS:
        return word
    return None
