"""Replies from the workspace: written from a template, edited, sent once through the real senders
(an SMTP sink, the Twilio stand-in), threaded with the case, shown on it, and — when ticked —
recorded as the stage response once they have gone."""

# Fixtures are imported by name from the modules that define them (pytest finds them that way).
# ruff: noqa: F811

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake import deadlines, jobs
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import Acknowledgement, AuditEntry, Item, Reply, SmsOptOut
from tests.channels.mail_servers import SmtpServer
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import new_mobile
from tests.factories import email_message, sms_message
from tests.web.conftest import signed_in
from tests.web.reply_support import as_complaint, connect, mails, reply_form, smtp_sink, twilio  # noqa: F401 (fixtures)

QUESTION = (
    "Hello, could you tell me when the communal hallway at 4 Birch Court will next be cleaned? Thanks, Pat"
)
COMPLAINT = (
    "I want to make a formal complaint. I reported the leak in my bathroom ceiling in August and it has "
    "still not been fixed after three visits. 12 Ash Grove."
)


def _case(runtime: Runtime, body: str = QUESTION, **extra: object) -> Item:
    result = ingest(
        runtime, email_message(body, sender="pat@example.com", subject="Hallway cleaning", **extra)
    )
    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item is not None
        session.expunge(item)
        return item


def _complaint(runtime: Runtime) -> Item:
    """A case that is a complaint, whatever the classifier makes of its text."""
    item = _case(runtime, COMPLAINT)
    with runtime.database.session() as session:
        root = session.get(Item, item.id)
        assert root is not None
        as_complaint(runtime, session, root)
    return item


def _send(client: TestClient, item_id: int, form: dict[str, str], **fields: str) -> object:
    data = {
        "key": form["key"],
        "csrf_token": form["csrf_token"],
        "channel": "email",
        "subject": "About your message",
        "template": "general_email",
        **fields,
    }
    return client.post(f"/staff/items/{item_id}/reply", data=data, follow_redirects=False)


def test_an_email_reply_reaches_the_resident_threaded_with_the_case_and_is_sent_once(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    item = _case(runtime, external_id="<pat-1@example.com>")
    assert len(smtp_sink.received) == 1  # the acknowledgement
    acknowledgement_id = mails(smtp_sink)[0]["Message-ID"]
    signed_in(client, runtime, "tina", "triage")

    form = reply_form(client, item.id)
    assert form["body"].startswith("Dear ") and item.reference in form["body"]  # the template, filled in
    body = form["body"].replace("[Write your reply here.]", "The hallway is cleaned every Tuesday morning.")
    response = _send(client, item.id, form, body=body)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/staff/items/{item.id}"  # type: ignore[attr-defined]

    reply = mails(smtp_sink)[1]
    assert reply["To"] == "pat@example.com"
    assert item.reference in reply["Subject"]
    assert reply["In-Reply-To"] == "<pat-1@example.com>"
    assert reply["References"].split() == ["<pat-1@example.com>", acknowledgement_id]  # ours threads too
    assert "cleaned every Tuesday morning" in reply.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert (
        reply["Auto-Submitted"] is None
    )  # a person wrote it (RFC 3834); out-of-office replies still suppressed
    assert reply["X-Auto-Response-Suppress"] == "All"

    # The same form posted again (a double click, a resent page) is the same reply: nothing more goes.
    assert _send(client, item.id, form, body=body).status_code == 303  # type: ignore[attr-defined]
    assert len(smtp_sink.received) == 2
    page = client.get(f"/staff/items/{item.id}").text
    assert "cleaned every Tuesday morning" in page and "Replies to the resident" in page
    conversation = client.get(f"/staff/items/{item.id}/reply").text
    assert "cleaned every Tuesday morning" in conversation and "Acknowledgement: received" in conversation
    with runtime.database.session() as session:
        letter = session.scalars(select(Acknowledgement).where(Acknowledgement.purpose.like("reply_%"))).one()
        assert letter.status == "sent" and letter.provider_id == reply["Message-ID"]
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "reply_planned")).one().actor
            == "tina"
        )

    # The resident answers our reply: their message joins the case, found by our reply's Message-ID.
    answer = ingest(
        runtime,
        email_message(
            "What time on Tuesday do the cleaners come?",
            sender="pat@example.com",
            subject=f"Re: {reply['Subject']}",
            thread_keys=[reply["Message-ID"]],
        ),
    )
    with runtime.database.session() as session:
        answered = session.get(Item, answer.item_id)
        assert answered is not None
        # Found by the thread: joined to the case, or (a thank-you on an enquiry is another type, and a
        # narrow case holds one type) started its own case pointing at this one.
        assert item.id in (answered.case_id, answered.details.get("related_case_id"))


def test_a_text_reply_goes_to_the_residents_number_unless_they_opted_out(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer, twilio: TwilioStandIn
) -> None:
    connect(runtime, smtp_sink, twilio)
    mobile = new_mobile()
    result = ingest(runtime, sms_message("Hi when is the bin collection on Elm Road? thanks", phone=mobile))
    twilio.wait_for_messages(1)
    signed_in(client, runtime, "tina", "triage")
    form = reply_form(client, result.item_id)
    assert "(text" in form["page"]  # a text case starts as a text
    response = _send(
        client,
        result.item_id,
        form,
        channel="sms",
        template="general_sms",
        body=form["body"].replace("[Write your reply here.]", "Bins go out on Thursdays."),
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    sent = twilio.wait_for_messages(2)[-1]
    assert sent.form["To"] == mobile and "Bins go out on Thursdays." in sent.form["Body"]

    with runtime.database.session() as session:
        session.add(SmsOptOut(phone=mobile, opted_out=True, keyword="STOP"))
    form = reply_form(client, result.item_id, channel="sms")
    refused = _send(client, result.item_id, form, channel="sms", body="Another text")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "opted out of text messages" in refused.text  # type: ignore[attr-defined]
    assert len(twilio.messages) == 2


def test_a_reply_marked_as_the_stage_response_meets_the_response_deadline_once_sent(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    item = _complaint(runtime)
    with runtime.database.session() as session:
        assert "respond" in deadlines.open_kinds(session.get(Item, item.id))  # type: ignore[arg-type]
    signed_in(client, runtime, "tina", "triage")
    form = reply_form(client, item.id, template="stage_response_email")
    assert "This is the" in form["page"] and "stage-response" in form["page"]
    response = _send(
        client,
        item.id,
        form,
        body="Dear Pat,\n\nOur response: upheld. We will fix the leak on 3 March.",
        stage_response="yes",
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    with runtime.database.session() as session:
        root = session.get(Item, item.id)
        assert root is not None
        assert "respond" not in deadlines.open_kinds(root)
        reply = session.scalars(select(Reply)).one()
        assert reply.response_recorded_at is not None
        assert root.details["responses"][-1]["by"] == "tina"


def test_a_stage_response_that_fails_to_send_is_not_recorded(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    item = _complaint(runtime)
    signed_in(client, runtime, "tina", "triage")
    form = reply_form(client, item.id)
    smtp_sink.refuse_next("550 5.1.1 mailbox unavailable")
    response = _send(client, item.id, form, body="Our response: not upheld.", stage_response="yes")
    assert response.status_code == 303  # type: ignore[attr-defined]
    with runtime.database.session() as session:
        root = session.get(Item, item.id)
        assert root is not None
        assert "respond" in deadlines.open_kinds(root)  # the deadline is not met by a letter that failed
        letter = session.scalars(select(Acknowledgement).where(Acknowledgement.purpose.like("reply_%"))).one()
        assert letter.status == "failed"
    assert "could not be sent" in client.get(f"/staff/items/{item.id}").text


def test_a_reply_interrupted_mid_send_is_left_unknown_not_sent_again(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    item = _case(runtime)
    signed_in(client, runtime, "tina", "triage")
    form = reply_form(client, item.id)
    _send(client, item.id, form, body="Cleaned on Tuesdays.")
    with runtime.database.session() as session:  # as a worker killed after handing it to the server
        letter = session.scalars(select(Acknowledgement).where(Acknowledgement.purpose.like("reply_%"))).one()
        letter.status, letter.sending_started_at = "sending", runtime.clock.now() - timedelta(minutes=10)
    before = len(smtp_sink.received)
    jobs.sweep()
    with runtime.database.session() as session:
        letter = session.scalars(select(Acknowledgement).where(Acknowledgement.purpose.like("reply_%"))).one()
        assert letter.status == "unknown"
    jobs.sweep()
    assert len(smtp_sink.received) == before


def test_replies_refused_with_a_reason_never_a_server_error(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    item = _case(runtime)
    signed_in(client, runtime, "tina", "triage")
    form = reply_form(client, item.id)
    unfilled = _send(client, item.id, form, body=form["body"])  # the template's [prompt] left in
    assert unfilled.status_code == 400 and "Fill in or remove [Write your reply here.]" in unfilled.text  # type: ignore[attr-defined]
    assert _send(client, item.id, form, body="   ").status_code == 400  # type: ignore[attr-defined]
    assert _send(client, item.id, form, body="Hi", subject="").status_code == 400  # type: ignore[attr-defined]
    assert _send(client, item.id, form, body="Hi", channel="fax").status_code == 400  # type: ignore[attr-defined]
    expired = _send(client, item.id, {**form, "key": "x"}, body="Hi")
    assert expired.status_code == 400  # type: ignore[attr-defined]
    no_phone = _send(client, item.id, form, body="Hi", channel="sms")
    assert no_phone.status_code == 400 and "No mobile number" in no_phone.text  # type: ignore[attr-defined]
    assert client.get("/staff/items/999999/reply").status_code == 404
    assert len(smtp_sink.received) == 1  # only the acknowledgement went


def test_a_reply_never_goes_to_one_of_the_landlords_own_addresses(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    result = ingest(
        runtime, email_message(QUESTION, sender="contact@riverside-homes.example", subject="Loop")
    )
    signed_in(client, runtime, "tina", "triage")
    form = reply_form(client, result.item_id)
    refused = _send(client, result.item_id, form, body="Hello")
    assert refused.status_code == 400 and "No email address is known" in refused.text  # type: ignore[attr-defined]
    assert smtp_sink.received == []


def test_what_the_resident_wrote_shows_as_text_on_the_reply_page(
    client: TestClient, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    result = ingest(
        runtime,
        email_message(
            "My tap drips <script>alert('x')</script> please fix it",
            sender="pat@example.com",
            subject="Tap <script>alert('y')</script>",
        ),
    )
    signed_in(client, runtime, "tina", "triage")
    page = client.get(f"/staff/items/{result.item_id}/reply").text
    tags = re.findall(r"<script[^>]*>", page)
    assert set(tags) <= {
        f'<script src="/static/{name}.js" defer>' for name in ("intake", "notifications", "replies")
    }
    assert "&lt;script&gt;alert" in page
