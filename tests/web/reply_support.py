"""Shared by the reply and staff alert tests: a real SMTP sink and the Twilio stand-in wired into a
runtime, and reading the reply form as a browser would."""

from __future__ import annotations

import email
import html
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.corrections import correct_item
from intake.runtime import Runtime
from intake.settings import SmtpSettings
from models import Item
from tests.channels.mail_servers import SmtpServer
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import ACCOUNT_SID, AUTH_TOKEN, twilio_settings
from tests.web.conftest import csrf_of

LANDLORD_ADDRESS = "contact@riverside-homes.example"
KEY_PATTERN = re.compile(r'name="key" value="([^"]+)"')
BODY_PATTERN = re.compile(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', re.S)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        yield standin


def connect(runtime: Runtime, smtp_sink: SmtpServer, twilio: TwilioStandIn | None = None) -> Runtime:
    """Point the runtime's senders at the sinks (before anything has been sent through it)."""
    runtime.settings.smtp = SmtpSettings(
        host=smtp_sink.host,
        port=smtp_sink.port,
        from_address=f"Riverside Homes <{LANDLORD_ADDRESS}>",
        starttls=False,
        timeout_seconds=10,
    )
    runtime.settings.landlord_addresses = [LANDLORD_ADDRESS]
    if twilio is not None:
        runtime.settings.twilio = twilio_settings(twilio)
    runtime._senders.clear()
    return runtime


def as_complaint(runtime: Runtime, session: Session, item: Item) -> Item:
    """The item as a complaint (delay): the classifier may read a complaint's text as something else,
    and these tests are about what happens to a complaint, not about the classifier."""
    if item.type != "complaint":
        correct_item(
            runtime,
            session,
            item,
            user="test",
            type="complaint",
            categories=["delay"],
            flags=[],
            queue=None,
            reason=None,
        )
    return item


def mails(smtp_sink: SmtpServer) -> list[EmailMessage]:
    return [
        email.message_from_bytes(received.content, policy=policy.default)  # type: ignore[misc]
        for received in smtp_sink.received
    ]


def reply_form(client: TestClient, item_id: int, **query: str) -> dict[str, str]:
    """What the reply page offers: its one-time key, CSRF token and the template text it filled in."""
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    page = client.get(f"/staff/items/{item_id}/reply" + (f"?{suffix}" if suffix else ""))
    assert page.status_code == 200, page.text
    key = KEY_PATTERN.search(page.text)
    body = BODY_PATTERN.search(page.text)
    assert key and body
    return {
        "key": key.group(1),
        "csrf_token": csrf_of(page.text),
        "body": html.unescape(body.group(1)),
        "page": page.text,
    }
