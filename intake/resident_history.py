"""Other cases from the same resident: the case page's "Other cases from this resident" panel.

A resident is recognised by an email address (compared in lower case) or a phone number (compared
as E.164, so `07911 123456` on a form and `+447911123456` from Twilio are one person), whether it
is the message's sender address or the contact on file. Restricted cases (intake/privacy) are shown
to admins only, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import Contact, Item

LIMIT = 20  # the newest; a resident with more has a long history a search shows in full


@dataclass(frozen=True)
class OtherCase:
    id: int
    reference: str | None
    received_at: datetime
    type: str | None
    queue: str | None
    case_status: str
    subject: str | None
    body: str


def normalised_address(address: str | None) -> tuple[str | None, str | None]:
    """(email, E.164 phone) for a sender address; each None when it is not one."""
    if not address:
        return None, None
    text = address.strip()
    if "@" in text:
        return text.lower(), None
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None, None
    if not phonenumbers.is_possible_number(number):
        return None, None
    return None, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def other_cases(session: Session, item: Item, *, include_restricted: bool = False) -> list[OtherCase]:
    """The newest other cases (roots) from whoever sent `item`, newest first."""
    emails: set[str] = set()
    phones: set[str] = set()
    email, phone = normalised_address(item.sender_address)
    emails.update([email] if email else [])
    phones.update([phone] if phone else [])
    if item.contact_id is not None:
        contact = session.get(Contact, item.contact_id)
        if contact is not None:
            emails.update([contact.email.lower()] if contact.email else [])
            phones.update([contact.phone] if contact.phone else [])
    if not emails and not phones:
        return []
    known = select(Contact.id).where(or_(func.lower(Contact.email).in_(emails), Contact.phone.in_(phones)))
    from_them = or_(
        func.lower(Item.sender_address).in_(emails | phones),
        Item.sender_address.in_(phones),
        Item.contact_id.in_(known),
    )
    # Follow-ups belong to their case: the panel lists case roots, never this case itself.
    conditions = [from_them, Item.case_id.is_(None), Item.id != item.case_root_id, Item.erased_at.is_(None)]
    if not include_restricted:
        conditions.append(Item.restricted_at.is_(None))
    rows = session.scalars(select(Item).where(*conditions).order_by(Item.received_at.desc()).limit(LIMIT))
    return [
        OtherCase(row.id, row.reference, row.received_at, row.type, row.queue, row.case_status, row.subject, row.body)
        for row in rows
    ]
