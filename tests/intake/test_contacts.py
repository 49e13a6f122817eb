"""A contact learns what a later message tells about it, and never loses what it knew — alike
through the ORM (one message) and the request path's Core rows (a group of webhooks)."""

from __future__ import annotations

from sqlalchemy import select

from intake.contacts import find_or_create_contact, find_or_create_contact_ids
from intake.runtime import Runtime
from models import Contact

PHONE = "+447911123480"
EMAIL = "carer@example.com"


def _contact(runtime: Runtime, contact_id: int) -> tuple[str | None, str | None, str | None]:
    with runtime.database.session() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        return contact.name, contact.phone, contact.role


def test_a_later_message_fills_in_what_a_contact_lacks_and_overwrites_nothing_both_ways(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        by_phone = find_or_create_contact(session, email=None, phone=PHONE, name=None, role=None)
        by_email = find_or_create_contact(session, email=EMAIL, phone=None, name="Ann Carer", role="carer")
        session.flush()
        assert by_phone is not None and by_email is not None
        phone_id, email_id = by_phone.id, by_email.id

    with runtime.database.session() as session:  # one message, through the ORM
        find_or_create_contact(session, email=None, phone=PHONE, name="Sam Tenant", role="resident")
    assert _contact(runtime, phone_id) == ("Sam Tenant", PHONE, "resident")

    with runtime.database.session() as session:  # a group of webhooks, through Core
        ids = find_or_create_contact_ids(
            session.connection(),
            [(EMAIL, "+447911123481", "Someone Else", "resident"), (None, PHONE, "Another Name", "advocate")],
        )
    assert ids == [email_id, phone_id]
    assert _contact(runtime, email_id) == ("Ann Carer", "+447911123481", "carer")  # the phone was lacking
    assert _contact(runtime, phone_id) == ("Sam Tenant", PHONE, "resident")  # nothing overwritten
    with runtime.database.session() as session:
        assert len(list(session.scalars(select(Contact)))) == 2
