"""Who sent a message: an address as it arrived, cleaned once into an email address and/or an E.164 phone.

Every way in that is handed a free-form sender (the items API, JSONL files, call transcripts) cleans
it here, so "is this an email or a phone number" is decided the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.phone import looks_like_phone, normalise_phone


@dataclass(frozen=True)
class SenderContacts:
    address: str | None  # the email, else the phone, else the sender as given
    email: str | None
    phone: str | None


def clean_email(value: str | None) -> str | None:
    """An email address trimmed and lower-cased, or None when `value` is not one."""
    return value.strip().lower() if value and "@" in value else None


def sender_contacts(
    sender: str | None, *, email: str | None = None, phone: str | None = None
) -> SenderContacts:
    """The sender's email and phone: the explicit ones when given, else read from `sender`."""
    given = (sender or "").strip() or None
    found_email = email or clean_email(given)
    found_phone = normalise_phone(phone) or (normalise_phone(given) if looks_like_phone(given) else None)
    return SenderContacts(address=found_email or found_phone or given, email=found_email, phone=found_phone)
