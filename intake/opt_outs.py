"""SMS keywords (STOP, START, HELP): recorded, honoured, never triaged as items."""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake import audit
from intake.clock import SYSTEM_CLOCK, Clock
from models import SmsOptOut

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


def apply_keyword(
    session: Session, *, phone: str, keyword: str, item_id: int | None, clock: Clock = SYSTEM_CLOCK
) -> str:
    """Record an opt-out or opt-in; returns "opted_out", "opted_in" or "help"."""
    if keyword in HELP_KEYWORDS:
        audit.record(session, actor="sms", action="sms_help_requested", item_id=item_id)
        return "help"
    opted_out = keyword in OPT_OUT_KEYWORDS
    row = session.get(SmsOptOut, phone)
    if row is None:
        session.add(
            SmsOptOut(phone=phone, opted_out=opted_out, keyword=keyword, changed_at=clock.now())
        )
    else:
        row.opted_out, row.keyword, row.changed_at = opted_out, keyword, clock.now()
    audit.record(
        session, actor="sms", action="sms_opted_out" if opted_out else "sms_opted_in", item_id=item_id
    )
    return "opted_out" if opted_out else "opted_in"


def is_opted_out(session: Session, phone: str) -> bool:
    row = session.get(SmsOptOut, phone)
    return bool(row and row.opted_out)
