"""Finding a person's data: through contacts, sender addresses, case parties and a search for their name.

What the identifiers lead to directly (their contact record, messages from their address or number)
is theirs. Other messages in their cases, and messages elsewhere that mention their name, may or may
not be about them: they are listed as candidates, each with the reason, for an admin to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from intake.errors import InvalidMessage
from models import Contact, Item

MIN_NAME_LENGTH = 4  # shorter "names" (initials, "Jo") would match half the database


@dataclass(frozen=True)
class SubjectQuery:
    """Who the request is about: exactly one of an email address, a phone number or a contact id."""

    email: str | None = None
    phone: str | None = None
    contact_id: int | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.email, self.phone, self.contact_id) if v not in (None, "")]
        if len(given) != 1:
            raise InvalidMessage("give exactly one of an email address, a phone number or a contact id")

    @property
    def key(self) -> str:
        """The identifier as typed, normalised: what the request's fingerprint is made from."""
        if self.email:
            return f"email:{self.email.strip().lower()}"
        if self.phone:
            return f"phone:{normalise_phone(self.phone)}"
        return f"contact:{self.contact_id}"

    @property
    def shown(self) -> str:
        return self.email or self.phone or f"contact {self.contact_id}"


@dataclass
class Candidate:
    item_id: int
    why: str


@dataclass
class SubjectMatch:
    """A person's identifiers and items; `candidates` await an admin's confirmation."""

    query: SubjectQuery
    contact_ids: list[int] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    item_ids: list[int] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    def confirmed(self, extra: list[int] | None = None) -> list[int]:
        """Their items plus the candidates an admin confirmed (ids not among the candidates are ignored)."""
        allowed = {candidate.item_id for candidate in self.candidates}
        return sorted(set(self.item_ids) | {i for i in (extra or []) if i in allowed})

    @property
    def identifiers(self) -> set[str]:
        """Every string that identifies them, for scrubbing free text and files."""
        return {value for value in (*self.emails, *self.phones, *self.names) if value}


def normalise_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value.strip(), "GB")
    except phonenumbers.NumberParseException:
        return value.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_subject(session: Session, query: SubjectQuery) -> SubjectMatch:
    match = SubjectMatch(query=query)
    if query.email:
        match.emails.add(query.email.strip().lower())
    if query.phone:
        match.phones.add(normalise_phone(query.phone))
    # A contact found by email may carry a phone number that leads to a second contact (made when they
    # first texted): follow the identifiers until no new contact turns up.
    for _ in range(10):
        contacts = _contacts(session, query, match)
        if query.contact_id is not None and not contacts:
            raise InvalidMessage(f"there is no contact {query.contact_id}")
        if {contact.id for contact in contacts} <= set(match.contact_ids):
            break
        for contact in contacts:
            if contact.id not in match.contact_ids:
                match.contact_ids.append(contact.id)
            if contact.email:
                match.emails.add(contact.email.lower())
            if contact.phone:
                match.phones.add(contact.phone)
            if contact.name:
                match.names.add(contact.name.strip())
    match.contact_ids.sort()
    addresses = match.emails | match.phones
    conditions = []
    if match.contact_ids:
        conditions.append(Item.contact_id.in_(match.contact_ids))
    if addresses:
        conditions.append(func.lower(Item.sender_address).in_(sorted(addresses)))
    direct = list(session.scalars(select(Item).where(or_(*conditions)).order_by(Item.id))) if conditions else []
    match.item_ids = [item.id for item in direct]
    for item in direct:
        if item.sender_name and item.sender_name.strip():
            match.names.add(item.sender_name.strip())
    _case_party_candidates(session, match, direct)
    _name_candidates(session, match)
    return match


def _contacts(session: Session, query: SubjectQuery, match: SubjectMatch) -> list[Contact]:
    conditions = []
    if query.contact_id is not None:
        conditions.append(Contact.id == query.contact_id)
    if match.emails:
        conditions.append(func.lower(Contact.email).in_(sorted(match.emails)))
    if match.phones:
        conditions.append(Contact.phone.in_(sorted(match.phones)))
    return list(session.scalars(select(Contact).where(or_(*conditions)).order_by(Contact.id)))


def _case_party_candidates(session: Session, match: SubjectMatch, direct: list[Item]) -> None:
    """Other messages in the cases they are a party to: a relative's follow-up, an MP's letter."""
    roots = {item.case_root_id for item in direct}
    if not roots:
        return
    mine = set(match.item_ids)
    for item in session.scalars(
        select(Item).where(or_(Item.id.in_(roots), Item.case_id.in_(roots))).order_by(Item.id)
    ):
        if item.id not in mine:
            match.candidates.append(Candidate(item.id, f"in case {_case_label(session, item)} they are a party to"))


def _name_candidates(session: Session, match: SubjectMatch) -> None:
    """Messages from anyone that mention one of their names (a search of every text field)."""
    listed = set(match.item_ids) | {candidate.item_id for candidate in match.candidates}
    for name in sorted(match.names):
        if len(name) < MIN_NAME_LENGTH:
            continue
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found = session.scalars(
            select(Item.id).where(
                or_(
                    Item.sender_name.ilike(pattern, escape="\\"),
                    Item.subject.ilike(pattern, escape="\\"),
                    Item.body.ilike(pattern, escape="\\"),
                    cast(Item.details, String).ilike(pattern, escape="\\"),
                )
            )
        )
        for item_id in found:
            if item_id not in listed:
                listed.add(item_id)
                match.candidates.append(Candidate(item_id, "mentions their name"))


def _case_label(session: Session, item: Item) -> str:
    root = session.get(Item, item.case_root_id) or item
    return root.reference or f"#{root.id}"
