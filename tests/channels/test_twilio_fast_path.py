"""Texts and call transcriptions are answered ahead of FastAPI's routing (intake/api/webhooks/
twilio_fast_path.py). Each request here goes both ways in — through the app as served, and through the
same app without the fast path, where FastAPI's documented routes answer — and both must answer alike
and store alike."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from intake.api.webhooks.twilio_fast_path import TwilioInboundFastPath
from intake.app import create_app
from intake.runtime import Runtime
from models import Item, RawMessage
from tests.channels.twilio_support import (
    TwilioWebhooks,
    new_mobile,
    sign,
    sms_form,
    transcription_form,
)

SMS_PATH = "/webhooks/twilio/sms"
TRANSCRIPTION_PATH = "/webhooks/twilio/transcription"
COMPARED_HEADERS = ("content-type", "content-length", "strict-transport-security", "cache-control", "www-authenticate")


def _without_fast_path(app: FastAPI) -> FastAPI:
    """The same app with FastAPI's own routes answering (the middleware stack is built on first use)."""
    app.user_middleware = [entry for entry in app.user_middleware if entry.cls is not TwilioInboundFastPath]
    return app


@pytest.fixture
def both_ways(sms_runtime: Runtime) -> Iterator[tuple[TwilioWebhooks, TwilioWebhooks]]:
    with (
        TestClient(create_app(sms_runtime)) as served,
        TestClient(_without_fast_path(create_app(sms_runtime))) as routes,
    ):
        yield TwilioWebhooks(served), TwilioWebhooks(routes)


def _answer(response: httpx.Response) -> tuple[int, dict[str, str], str]:
    # A refused payload is kept under its own number on each side.
    body = re.sub(r"rejected #\d+", "rejected #N", response.text)
    return response.status_code, {name: response.headers.get(name, "") for name in COMPARED_HEADERS}, body


def _items(runtime: Runtime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def _kept_refusals(runtime: Runtime) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).where(RawMessage.rejected_reason.is_not(None))) or 0


def test_a_text_and_a_transcription_are_answered_and_stored_alike_both_ways(
    both_ways: tuple[TwilioWebhooks, TwilioWebhooks], sms_runtime: Runtime
) -> None:
    answers = []
    for webhooks in both_ways:
        text = sms_form("the bathroom light has stopped working", sender=new_mobile())
        call = transcription_form("hello I am ringing about my rent statement", caller=new_mobile())
        answers.append(
            [
                _answer(webhooks.post(SMS_PATH, text)),
                _answer(webhooks.post(SMS_PATH, text)),  # Twilio's retry: the same MessageSid
                _answer(webhooks.post(TRANSCRIPTION_PATH, call)),
            ]
        )
    served, routes = answers
    assert served == routes
    assert [status for status, _, _ in served] == [200, 200, 200]
    assert served[0][2] == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert served[0][1]["strict-transport-security"]  # the public address is https: the same headers
    assert _items(sms_runtime) == 4  # two texts and two calls: the retries stored nothing


def test_refusals_are_answered_alike_both_ways(
    both_ways: tuple[TwilioWebhooks, TwilioWebhooks], sms_runtime: Runtime
) -> None:
    sms_runtime.settings.max_body_bytes = 4096
    answers = []
    for webhooks in both_ways:
        form = sms_form("my door will not lock", sender=new_mobile())
        without_sid = {key: value for key, value in form.items() if key not in ("MessageSid", "SmsSid", "SmsMessageSid")}
        too_large = sms_form("x" * 5000, sender=new_mobile())
        client = webhooks.client
        answers.append(
            [
                _answer(webhooks.post(SMS_PATH, form, signature="bm90IGEgc2lnbmF0dXJl")),
                _answer(webhooks.post(SMS_PATH, form, signature="")),
                _answer(webhooks.post(SMS_PATH, without_sid)),
                _answer(webhooks.post(SMS_PATH, too_large)),
                _answer(
                    client.post(
                        SMS_PATH,
                        content=b"Body=\xff\xfe&From=%2B447400100001",
                        headers={
                            "content-type": "application/x-www-form-urlencoded",
                            "X-Twilio-Signature": sign(SMS_PATH, {}),
                        },
                    )
                ),
                _answer(client.get(SMS_PATH)),  # not a POST: FastAPI's answer either way
            ]
        )
    served, routes = answers
    assert served == routes
    assert [status for status, _, _ in served] == [403, 403, 422, 413, 422, 405]
    assert _items(sms_runtime) == 0
    assert _kept_refusals(sms_runtime) == 2  # the signed webhook without a MessageSid, kept each way
