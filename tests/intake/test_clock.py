"""The runtime's clock is the one "now": an item's timestamps, its audit trail, a staff session and a
text without a time of its own all carry the clock's moment, not the machine's. (The moment below
is years away from any real run, so a wall-clock read anywhere shows up as a mismatch.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from channels.sms import message_from_twilio_form
from intake import staff_sessions, users
from intake.clock import FixedClock, session_now
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import AuditEntry, Item, StaffSession

MOMENT = datetime(2031, 3, 4, 10, 15, tzinfo=UTC)


def test_an_item_and_its_audit_trail_are_stamped_by_the_runtimes_clock(runtime: Runtime) -> None:
    runtime.clock = FixedClock(MOMENT)
    form = {"From": "+447911123123", "To": "+447911123000", "Body": "my back door will not lock", "MessageSid": "SMclock1"}

    result = ingest(runtime, message_from_twilio_form(form, raw=b"From=..."))

    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item is not None
        assert item.received_at == MOMENT  # the text had no time of its own: the clock's, not the machine's
        assert (item.created_at, item.updated_at) == (MOMENT, MOMENT)  # the tables' defaults
        trail = session.scalars(select(AuditEntry.at).where(AuditEntry.item_id == item.id)).all()
        assert trail and set(trail) == {MOMENT}


def test_a_staff_session_opens_and_ends_by_the_runtimes_clock(runtime: Runtime) -> None:
    runtime.clock = FixedClock(MOMENT)
    with runtime.database.session() as session:
        user = users.create_user(session, username="clock.tester", password="a long and careful passphrase 7",
                                 role="triage", actor="test")
        session.flush()
        token = staff_sessions.open_session(session, user.id)
        assert session_now(session) == MOMENT
    runtime.clock.advance(timedelta(hours=2))
    with runtime.database.session() as session:
        assert staff_sessions.session_user(session, token) is not None
        staff_sessions.end_session(session, token)
    with runtime.database.session() as session:
        row = session.scalars(select(StaffSession)).one()
        assert (row.created_at, row.expires_at, row.revoked_at) == (
            MOMENT, MOMENT + staff_sessions.SESSION_LIFETIME, MOMENT + timedelta(hours=2)
        )
