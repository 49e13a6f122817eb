"""Contacts: the people and offices who write in, found by email or phone, created on first contact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from intake.bulk_insert import insert_returning_ids
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


def _filled_in(
    known_name: str | None, known_phone: str | None, known_role: str | None,
    *, name: str | None, phone: str | None, role: str | None,
) -> dict[str, str]:
    """What a later message tells us that the contact lacks (never overwriting what is known): the
    fields to change. The one rule for the ORM's contacts and the request path's rows."""
    changes: dict[str, str] = {}
    if name and not known_name:
        changes["name"] = name
    if phone and not known_phone:
        changes["phone"] = phone
    if role and known_role == "unknown":
        changes["role"] = role
    return changes


def _fill_in(contact: Contact, *, name: str | None, phone: str | None, role: str | None) -> None:
    for column, value in _filled_in(contact.name, contact.phone, contact.role, name=name, phone=phone, role=role).items():
        setattr(contact, column, value)


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


_CONTACTS = cast(Table, Contact.__table__)
_COLUMNS = (_CONTACTS.c.id, _CONTACTS.c.email, _CONTACTS.c.phone, _CONTACTS.c.name, _CONTACTS.c.role)
_BY_EMAIL = (
    select(*_COLUMNS).where(_CONTACTS.c.email.in_(bindparam("values", expanding=True))).order_by(_CONTACTS.c.id)
)
_BY_PHONE = (
    select(*_COLUMNS).where(_CONTACTS.c.phone.in_(bindparam("values", expanding=True))).order_by(_CONTACTS.c.id)
)


def contact_lookups(senders: Sequence[Sender]) -> tuple[list[str], list[str]]:
    """What to look contacts up by: the senders' emails (lowercased), and the phones of those
    without an email (a sender is known by its email first)."""
    emails = {email.lower() for email, _phone, _name, _role in senders if email}
    phones = {phone for email, phone, _name, _role in senders if not email and phone}
    return sorted(emails), sorted(phones)


ContactKey = tuple[str, str]  # ("email", address) or ("phone", number)


@dataclass
class ContactsPlan:
    """What a group of senders needs of the contacts table, decided from the contacts found."""

    keys: list[ContactKey | None]  # each sender's contact, None for a sender with no address
    known: dict[ContactKey, dict[str, object]]  # the contacts found, by what they were found by
    new: dict[ContactKey, dict[str, object]]  # rows to insert (no id yet), one a key
    changed: dict[int, dict[str, object]]  # known contacts a message tells more about, by id

    def ids(self, new_ids: Mapping[ContactKey, int]) -> list[int | None]:
        """Each sender's contact id, once the new contacts have theirs (`new_ids`)."""
        return [
            None if key is None else cast(int, self.known[key]["id"]) if key in self.known else new_ids[key]
            for key in self.keys
        ]


def plan_contacts(senders: Sequence[Sender], found: Iterable[Mapping[str, object]]) -> ContactsPlan:
    """`find_or_create_contacts`'s rules over plain rows (id, email, phone, name, role): each sender
    gets the lowest-id contact with its email (else phone), a new row when there is none (one a
    key, shared by a sender named twice), and what it tells a known contact (`_filled_in`)."""
    emails, phones = (set(values) for values in contact_lookups(senders))
    known: dict[ContactKey, dict[str, object]] = {}
    for row in sorted(found, key=lambda row: cast(int, row["id"])):
        if row["email"] in emails:
            known.setdefault(("email", str(row["email"])), dict(row))
        if row["phone"] in phones:
            known.setdefault(("phone", str(row["phone"])), dict(row))
    plan = ContactsPlan(keys=[], known=known, new={}, changed={})
    for email, phone, name, role in senders:
        if not email and not phone:
            plan.keys.append(None)
            continue
        key = ("email", email.lower()) if email else ("phone", phone or "")
        plan.keys.append(key)
        match = known.get(key) or plan.new.get(key)
        if match is None:
            plan.new[key] = {
                "email": email.lower() if email else None, "phone": phone, "name": name, "role": role or "unknown"
            }
            continue
        changes = _filled_in(
            cast(str | None, match["name"]), cast(str | None, match["phone"]), cast(str | None, match["role"]),
            name=name, phone=phone, role=role,
        )
        match.update(changes)
        if changes and key in known:
            plan.changed[cast(int, match["id"])] = match
    return plan


def find_or_create_contact_ids(connection: Connection, senders: Sequence[Sender]) -> list[int | None]:
    """`find_or_create_contacts` through Core, for the request path (no ORM objects, no flush):
    the contacts' ids, with at most two look-ups, one multi-row INSERT for the new ones and an
    UPDATE for each known contact a message tells more about (rare: `_fill_in`'s rules)."""
    table = _CONTACTS
    emails, phones = contact_lookups(senders)
    found: list[Mapping[str, object]] = []
    if emails:
        found += [dict(row._mapping) for row in connection.execute(_BY_EMAIL, {"values": emails})]
    if phones:
        found += [dict(row._mapping) for row in connection.execute(_BY_PHONE, {"values": phones})]
    plan = plan_contacts(senders, found)
    for contact_id, values in plan.changed.items():
        connection.execute(
            update(table)
            .where(table.c.id == contact_id)
            .values(name=values["name"], phone=values["phone"], role=values["role"])
        )
    created = insert_returning_ids(connection, table, list(plan.new.values()))
    return plan.ids(dict(zip(plan.new, created, strict=True)))
