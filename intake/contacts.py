"""Contacts: the people and offices who write in, found by email or phone, created on first contact."""

from __future__ import annotations

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
    if name and not contact.name:
        contact.name = name
    if phone and not contact.phone:
        contact.phone = phone
    if role and contact.role == "unknown":
        contact.role = role
    return contact
