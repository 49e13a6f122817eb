"""Staff alert emails: an emergency arrival and a deadline about to be missed, emailed once to the
staff who asked (a per-user setting), from the periodic sweep, with only the reference and a link."""

# Fixtures are imported by name from the modules that define them (pytest finds them that way).
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake import jobs, staff_alerts
from intake.clock import FixedClock
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import Deadline, Item, StaffAlertEmail, User
from tests.channels.mail_servers import SmtpServer
from tests.factories import email_message
from tests.web.conftest import signed_in, staff_post
from tests.web.reply_support import as_complaint, connect, mails, smtp_sink  # noqa: F401 (fixture)

GAS = "There is a strong smell of gas in my kitchen at 9 Oak Lane and my neighbour says she can smell it too."
COMPLAINT = "I want to make a formal complaint: my repair at 12 Ash Grove has been outstanding for months."


def _opt_in(client: TestClient, address: str, **choices: str) -> object:
    return staff_post(client, "/staff/alerts", "/staff/alerts", {"email": address, **choices})


def test_an_emergency_arrival_is_emailed_once_to_staff_who_opted_in(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    signed_in(client, runtime, "mo", "manager")
    assert _opt_in(client, "mo@riverside-homes.example", urgent_arrivals="yes").status_code == 303  # type: ignore[attr-defined]
    assert 'value="mo@riverside-homes.example"' in client.get("/staff/alerts").text
    result = ingest(runtime, email_message(GAS, sender="kemi@example.com", subject="Gas smell"))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item is not None and item.queue == "emergency"
        reference = item.reference
    before = len(smtp_sink.received)  # the resident's acknowledgement

    jobs.sweep()
    jobs.sweep()  # the periodic job runs again: nothing more goes
    alerts = [mail for mail in mails(smtp_sink)[before:]]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["To"] == "mo@riverside-homes.example" and reference in alert["Subject"]
    text = alert.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/staff/items/{result.item_id}" in text
    assert "gas" not in text.lower() and "kemi" not in text.lower() and "oak lane" not in text.lower()
    with runtime.database.session() as session:
        row = session.scalars(select(StaffAlertEmail)).one()
        assert row.status == "sent" and row.key == f"urgent:{result.item_id}:mo"


def test_nobody_who_did_not_opt_in_is_emailed_and_a_bad_address_is_refused(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    signed_in(client, runtime, "tina", "triage")
    refused = _opt_in(client, "not an address", urgent_arrivals="yes")
    assert refused.status_code == 400 and "work email address" in refused.text  # type: ignore[attr-defined]
    assert _opt_in(client, "tina@riverside-homes.example").status_code == 303  # type: ignore[attr-defined]
    ingest(runtime, email_message(GAS, sender="kemi@example.com"))
    before = len(smtp_sink.received)
    assert staff_alerts.run(runtime).planned == 0
    assert len(smtp_sink.received) == before


def test_a_deadline_about_to_be_missed_is_emailed_to_the_assignee_once(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    signed_in(client, runtime, "tina", "triage")
    _opt_in(client, "tina@riverside-homes.example", deadlines="yes")
    result = ingest(runtime, email_message(COMPLAINT, sender="pat@example.com"))
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item is not None
        as_complaint(runtime, session, item)
        item.assigned_to = "tina"
    with runtime.database.session() as session:
        respond = session.scalars(
            select(Deadline).where(
                Deadline.item_id == result.item_id,
                Deadline.kind == "respond",
                Deadline.superseded_at.is_(None),
            )
        ).one()
        due_at, deadline_id = respond.due_at, respond.id
    before = len(smtp_sink.received)
    runtime.clock = FixedClock(due_at - timedelta(days=10))  # far off: nothing yet
    assert staff_alerts.run(runtime).sent == 0
    runtime.clock = FixedClock(due_at - timedelta(hours=3))  # due today: tell the assignee
    assert staff_alerts.run(runtime).sent >= 1
    runtime.clock = FixedClock(due_at - timedelta(hours=1))
    staff_alerts.run(runtime)
    sent = [mail for mail in mails(smtp_sink)[before:] if "deadline" in mail["Subject"].lower()]
    keys = []
    with runtime.database.session() as session:
        keys = [row.key for row in session.scalars(select(StaffAlertEmail))]
    assert f"deadline:{deadline_id}:tina" in keys
    assert len(keys) == len(set(keys)) == len(sent)  # each alert once
    assert all(mail["To"] == "tina@riverside-homes.example" for mail in sent)


def test_an_alert_interrupted_mid_send_is_left_unknown(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    signed_in(client, runtime, "mo", "manager")
    _opt_in(client, "mo@riverside-homes.example", urgent_arrivals="yes")
    ingest(runtime, email_message(GAS, sender="kemi@example.com"))
    staff_alerts.plan(runtime, now=runtime.clock.now())
    with runtime.database.session() as session:  # as a process killed after the SMTP server had it
        row = session.scalars(select(StaffAlertEmail)).one()
        row.status, row.sending_started_at = "sending", runtime.clock.now() - timedelta(minutes=5)
    before = len(smtp_sink.received)
    assert staff_alerts.run(runtime).unknown == 1
    assert len(smtp_sink.received) == before
    with runtime.database.session() as session:
        assert session.scalars(select(StaffAlertEmail)).one().status == "unknown"


def test_a_deactivated_user_gets_no_alerts(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    signed_in(client, runtime, "mo", "manager")
    _opt_in(client, "mo@riverside-homes.example", urgent_arrivals="yes")
    with runtime.database.session() as session:
        session.scalars(select(User).where(User.username == "mo")).one().active = False
    ingest(runtime, email_message(GAS, sender="kemi@example.com"))
    assert staff_alerts.run(runtime).planned == 0
