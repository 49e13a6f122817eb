"""Browser tests for replies (Debian's Chromium driven by Playwright against a real uvicorn server):
a reply reaches the resident — by email through an SMTP sink, threaded to their message, and by
text through the Twilio stand-in — and a triage officer works a queue of 20 cases with corrections,
replies and closes using only the keyboard."""

# Fixtures are imported by name from the modules that define them (pytest finds them that way).
# ruff: noqa: F811

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from intake.corrections import correct_item
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import Acknowledgement, Correction, Item
from tests.channels.mail_servers import SmtpServer
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import new_mobile
from tests.factories import email_message, sms_message
from tests.web.conftest import add_user
from tests.web.reply_support import connect, mails, smtp_sink, twilio  # noqa: F401 (fixtures)
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    BROWSER_CEILING_MS,
    _screenshot_folder,
    _shot,
    _sign_in_with_the_keyboard,
    browser,
    server,
)

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
QUESTION = "Hello, which day is the communal hallway at 4 Birch Court cleaned? Thanks, Pat"


def test_a_reply_reaches_the_resident_by_email_and_by_text(  # type: ignore[no-untyped-def]
    browser, server: str, runtime: Runtime, smtp_sink: SmtpServer, twilio: TwilioStandIn
) -> None:
    connect(runtime, smtp_sink, twilio)
    add_user(runtime, "tina", "triage")
    by_email = ingest(
        runtime,
        email_message(
            QUESTION, sender="pat@example.com", subject="Hallway", external_id="<hallway-1@example.com>"
        ),
    )
    mobile = new_mobile()
    by_text = ingest(runtime, sms_message("hi when do the bins go out on elm road", phone=mobile))
    twilio.wait_for_messages(1)
    with runtime.database.session() as session:
        reference = session.get(Item, by_email.item_id).reference  # type: ignore[union-attr]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_CEILING_MS)
    page = context.new_page()
    _sign_in_with_the_keyboard(page, server, "tina", "triage")

    page.goto(f"{server}/staff/items/{by_email.item_id}")
    page.keyboard.press("w")  # write a reply
    page.wait_for_url(re.compile(rf".*/staff/items/{by_email.item_id}/reply.*"))
    assert page.evaluate("document.activeElement.id") == "reply-body"
    page.keyboard.type("The hallway is cleaned every Tuesday morning.")  # replaces the selected [prompt]
    _shot(page, "21-reply-form")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(rf".*/staff/items/{by_email.item_id}$"))
    assert "Reply sent by email to pat@example.com" in page.locator(".notification-banner").inner_text()
    assert "cleaned every Tuesday morning" in page.locator("[data-testid=sent-reply]").inner_text()
    _shot(page, "22-reply-on-the-case")

    reply = mails(smtp_sink)[-1]
    assert reply["In-Reply-To"] == "<hallway-1@example.com>"
    assert "<hallway-1@example.com>" in reply["References"]
    assert reference in reply["Subject"]
    assert "cleaned every Tuesday morning" in reply.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    page.goto(f"{server}/staff/items/{by_text.item_id}")
    page.keyboard.press("w")
    page.wait_for_url(re.compile(rf".*/staff/items/{by_text.item_id}/reply.*"))
    assert "(text message)" in page.locator("[data-testid=reply-recipient]").inner_text()
    page.keyboard.type("Bins go out on Thursday mornings.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(rf".*/staff/items/{by_text.item_id}$"))
    sent = twilio.wait_for_messages(2)[-1]
    assert sent.form["To"] == mobile and "Bins go out on Thursday mornings." in sent.form["Body"]
    context.close()


def test_a_triage_officer_works_a_queue_of_twenty_with_corrections_replies_and_closes_by_keyboard(  # type: ignore[no-untyped-def]
    browser, server: str, runtime: Runtime, smtp_sink: SmtpServer
) -> None:
    connect(runtime, smtp_sink)
    runtime.settings.triage_may_close = ["compliment", "suggestion", "enquiry"]  # the landlord's policy here
    add_user(runtime, "tina", "triage")
    for number in range(20):
        result = ingest(
            runtime,
            email_message(
                f"Hello, what day are the bins collected on Elm Road? House {number + 1}.",
                subject=f"Bins {number + 1}",
                sender=f"resident{number}@example.com",
            ),
        )
        with runtime.database.session() as session:
            item = session.get(Item, result.item_id)
            assert item is not None
            if item.type != "enquiry":  # the list worked is the enquiries: make sure all 20 are in it
                correct_item(
                    runtime,
                    session,
                    item,
                    user="setup",
                    type="enquiry",
                    categories=[],
                    flags=[],
                    queue=None,
                    reason=None,
                )
    acknowledgements = len(smtp_sink.received)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_CEILING_MS)
    page = context.new_page()
    _sign_in_with_the_keyboard(page, server, "tina", "triage")
    page.goto(f"{server}/staff/queues?type=enquiry&channel=email")
    page.keyboard.press("j")
    page.keyboard.press("o")

    visited: list[str] = []
    for done in range(20):
        page.wait_for_url(re.compile(r".*/staff/items/\d+\?from=.*"))
        page.locator("[data-correction-form]").wait_for()
        current = re.search(r"/staff/items/(\d+)", page.url).group(1)  # type: ignore[union-attr]
        visited.append(current)
        if done % 3 == 1:  # answer the question, then close it as resolved
            page.keyboard.press("w")
            page.wait_for_url(re.compile(rf".*/staff/items/{current}/reply\?from=.*"))
            page.keyboard.type("Bins on Elm Road are collected on Thursdays.")
            page.keyboard.press("Control+Enter")
            page.wait_for_url(re.compile(rf".*/staff/items/{current}\?from=.*"))
            assert "Reply sent by email" in page.locator(".notification-banner").inner_text()
        if done % 3 in (1, 2):  # close: d goes to the outcome, type to choose it, Tab to Close, Enter
            page.keyboard.press("d")
            page.keyboard.type("Resolved" if done % 3 == 1 else "Withdrawn")
            page.keyboard.press("Tab")  # the remedy (none)
            page.keyboard.press("Tab")  # the Close button
            page.keyboard.press("Enter")
            # After a reply the page is already at this URL: wait for the close's own banner, not the URL.
            page.locator(".notification-banner", has_text="Case closed").wait_for()
            page.wait_for_url(re.compile(rf".*/staff/items/{current}\?from=.*"))
            assert "Case closed" in page.locator(".notification-banner").inner_text()
            page.locator("[data-correction-form]").wait_for()
        else:  # a correction: it is a request for a service, not an enquiry
            page.keyboard.press("r")
        page.keyboard.press("n")  # save (or keep the labels) and open the next case in the list
        if done < 19:
            page.wait_for_url(lambda url, seen=current: f"/staff/items/{seen}?" not in url)
    page.wait_for_url(re.compile(r".*/staff/queues\?type=enquiry&channel=email$"))
    assert "last case in this list" in page.locator(".notification-banner").inner_text()
    _shot(page, "23-queue-of-twenty-worked")
    context.close()

    assert len(set(visited)) == 20  # every case once, none skipped or repeated
    ids = [int(v) for v in visited]
    with runtime.database.session() as session:
        corrected = session.scalar(
            select(func.count(func.distinct(Correction.item_id))).where(Correction.corrected_by == "tina")
        )
        closed = session.scalar(
            select(func.count()).select_from(Item).where(Item.id.in_(ids), Item.case_status == "closed")
        )
        replies = session.scalar(
            select(func.count())
            .select_from(Acknowledgement)
            .where(Acknowledgement.purpose.like("reply_%"), Acknowledgement.status == "sent")
        )
    assert (corrected, closed, replies) == (7, 13, 7)
    assert len(smtp_sink.received) - acknowledgements == 7
