"""Contacts: the people and offices who write in, found by email or phone, created on first contact."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Contact

ROLE_BY_FLAG = {"designated_person": "designated_person", "third_party": "advocate"}


def find_or_create_contact(
    session: Session, *, email: str | None, phone: str | None, name: str | None, role: str | None
) -> Contact | None:
    if not email and not phone:
        return None
    query = select(Contact)
    query = query.where(Contact.email == email.lower()) if email else query.where(Contact.phone == phone)
    contact = session.scalars(query.order_by(Contact.id).limit(1)).first()
    if contact is None:
        contact = Contact(
            email=email.lower() if email else None, phone=phone, name=name, role=role or "unknown"
        )
        session.add(contact)
        session.flush()
        return contact
    _fill_in(contact, name=name, phone=phone, role=role)
    return contact


def _fill_in(contact: Contact, *, name: str | None, phone: str | None, role: str | None) -> None:
    """What a later message tells us that the contact lacks (never overwriting what is known)."""
    if name and not contact.name:
        contact.name = name
    if phone and not contact.phone:
        contact.phone = phone
    if role and contact.role == "unknown":
        contact.role = role


Sender = tuple[str | None, str | None, str | None, str | None]  # email, phone, name, role


def find_or_create_contacts(session: Session, senders: Sequence[Sender]) -> list[Contact | None]:
    """`find_or_create_contact` for several senders at once (a group of webhooks stored together):
    at most two queries, and the new contacts added to the session unflushed, so the caller's next
    flush inserts them in one statement. A sender named twice gets the one contact."""
    emails = {email.lower() for email, _phone, _name, _role in senders if email}
    phones = {phone for email, phone, _name, _role in senders if not email and phone}
    known: dict[tuple[str, str], Contact] = {}
    with session.no_autoflush:
        if emails:
            for contact in session.scalars(select(Contact).where(Contact.email.in_(emails)).order_by(Contact.id)):
                known.setdefault(("email", contact.email or ""), contact)
        if phones:
            for contact in session.scalars(select(Contact).where(Contact.phone.in_(phones)).order_by(Contact.id)):
                known.setdefault(("phone", contact.phone or ""), contact)
    found: list[Contact | None] = []
    for email, phone, name, role in senders:
        if not email and not phone:
            found.append(None)
            continue
        key = ("email", email.lower()) if email else ("phone", phone or "")
        match = known.get(key)
        if match is None:
            match = Contact(email=email.lower() if email else None, phone=phone, name=name, role=role or "unknown")
            session.add(match)
            known[key] = match
        else:
            _fill_in(match, name=name, phone=phone, role=role)
        found.append(match)
    return found
