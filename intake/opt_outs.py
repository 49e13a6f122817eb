"""SMS keywords (STOP, START, HELP): recorded, honoured, never triaged as items."""

from __future__ import annotations

from sqlalchemy.orm import Session

from channels.sms_keywords import HELP_KEYWORDS, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, keyword_of
from intake import audit
from intake.clock import SYSTEM_CLOCK, Clock
from models import SmsOptOut

__all__ = ["HELP_KEYWORDS", "OPT_IN_KEYWORDS", "OPT_OUT_KEYWORDS", "apply_keyword", "keyword_of"]


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
