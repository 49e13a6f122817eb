"""Fixtures and helpers shared by the SMS and transcript tests: the Twilio stand-in, a runtime whose
SMS sender is the real `twilio` client pointed at it, and webhooks signed with the real
`RequestValidator`.

Test modules import the fixtures they use from here (pytest finds fixtures in a module's globals).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from classifier import Classifier
from intake.app import create_app
from intake.runtime import Runtime, use_runtime
from intake.settings import TwilioSettings
from tests.channels.twilio_standin import TwilioStandIn
from tests.conftest import make_settings

PUBLIC_BASE_URL = "https://intake.landlord.example"
ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "f3b1c2d4e5f60718293a4b5c6d7e8f90"
LANDLORD_NUMBER = "+447480000001"
LANDLINE = "+442079460000"  # Ofcom's drama range for London landlines: phonenumbers says FIXED_LINE

_mobiles = itertools.count(1)


def new_mobile() -> str:
    """A different valid UK mobile number for each call (07400 1xxxxx: phonenumbers says MOBILE)."""
    return f"+4474001{next(_mobiles):05d}"


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def sign(path: str, form: dict[str, str], *, token: str = AUTH_TOKEN, base: str = PUBLIC_BASE_URL) -> str:
    """The X-Twilio-Signature Twilio would send for this form posted to `base` + `path`."""
    return RequestValidator(token).compute_signature(base + path, form)  # type: ignore[no-any-return]


def sms_form(body: str, *, sender: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    """An inbound-text webhook form with the fields Twilio really sends."""
    message_sid = sid or new_sid("SM")
    form = {
        "ToCountry": "GB",
        "ToState": "",
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": message_sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "GB",
        "To": LANDLORD_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": message_sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def transcription_form(text: str, *, caller: str, status: str = "completed", **extra: str) -> dict[str, str]:
    """Twilio's transcription callback for a recorded call (a voicemail left on the repairs line)."""
    recording_sid = new_sid("RE")
    form = {
        "TranscriptionSid": new_sid("TR"),
        "TranscriptionText": text,
        "TranscriptionStatus": status,
        "TranscriptionUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Transcriptions/x",
        "TranscriptionType": "fast",
        "RecordingSid": recording_sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}",
        "CallSid": new_sid("CA"),
        "AccountSid": ACCOUNT_SID,
        "From": caller,
        "To": LANDLORD_NUMBER,
        "CallStatus": "completed",
        "ApiVersion": "2010-04-01",
        "Direction": "inbound",
        "ForwardedFrom": "",
        "url": "https://intake.landlord.example/webhooks/twilio/transcription",
    }
    form.update(extra)
    return form


def status_form(message_sid: str, status: str, *, to: str, error_code: str | None = None) -> dict[str, str]:
    form = {
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": ACCOUNT_SID,
        "From": LANDLORD_NUMBER,
        "To": to,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        form["ErrorCode"] = error_code
    return form


class TwilioWebhooks:
    """Posts webhooks to the app as Twilio does: form-encoded, signed for the public URL."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, path: str, form: dict[str, str], *, signature: str | None = None) -> httpx.Response:
        headers = {"X-Twilio-Signature": signature if signature is not None else sign(path, form)}
        return self.client.post(path, data=form, headers=headers)

    def text(self, body: str, *, sender: str, **extra: str) -> httpx.Response:
        return self.post("/webhooks/twilio/sms", sms_form(body, sender=sender, **extra))


def twilio_settings(standin: TwilioStandIn, **overrides: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": SecretStr(AUTH_TOKEN),
        "from_number": LANDLORD_NUMBER,
        "api_base_url": standin.url,
        "timeout_seconds": 30.0,  # a ceiling: the stand-in answers at once unless told to stall
    }
    values.update(overrides)
    return TwilioSettings(**values)


@pytest.fixture
def twilio_standin() -> Iterator[TwilioStandIn]:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        yield standin


@pytest.fixture
def sms_runtime(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    loaded_classifier: Classifier,
    twilio_standin: TwilioStandIn,
) -> Iterator[Runtime]:
    """The real pipeline (SQLite and PostgreSQL, in-process jobs) sending texts through the stand-in."""
    settings = make_settings(
        tmp_path,
        database_url,
        model_dir=trained_model_dir,
        public_base_url=PUBLIC_BASE_URL,
        twilio=twilio_settings(twilio_standin),
    )
    built = Runtime.build(settings)
    built.__dict__["classifier"] = loaded_classifier  # as the core `runtime` fixture does: load once
    with use_runtime(built):
        yield built
    built.database.dispose()


@pytest.fixture
def webhooks(sms_runtime: Runtime) -> Iterator[TwilioWebhooks]:
    with TestClient(create_app(sms_runtime)) as client:
        yield TwilioWebhooks(client)
