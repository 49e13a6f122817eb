"""Call transcripts: Twilio's transcription callback and POST /api/v1/transcripts, through the real
pipeline; the caller is acknowledged on their mobile, a landline caller by email or a call back."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from channels.transcripts import TranscriptIn, TranscriptTurn, message_from_transcript, readable_transcript
from intake.runtime import Runtime
from intake.tokens import create_token
from models import Acknowledgement, Item, RawMessage
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import LANDLINE, TwilioWebhooks, new_mobile, transcription_form

TRANSCRIPTION_PATH = "/webhooks/twilio/transcription"
VOICEMAIL = (
    "Hi, it's about flat 6 Rowan House. I reported the broken boiler two weeks ago and was told an "
    "engineer would come on Monday. Nobody came and nobody phoned. We've got no hot water and a baby "
    "in the house. This is not acceptable, please call me back."
)
CALL_TURNS = [
    {
        "speaker": "agent",
        "text": "Good morning, repairs line, you're speaking to Dana, how can I help?",
        "confidence": 0.97,
    },
    {
        "speaker": "caller",
        "text": "Hi, my kitchen tap has started dripping and it won't turn off fully.",
        "confidence": 0.91,
    },
    {"speaker": "agent", "text": "Sorry to hear that. Can I take your postcode please?", "confidence": 0.98},
    {
        "speaker": "caller",
        "text": "It's LS6 2AB, flat 4. Could someone come and have a look at it?",
        "confidence": 0.62,
    },
]


@pytest.fixture
def api(sms_runtime: Runtime, webhooks: TwilioWebhooks) -> TestClient:
    with sms_runtime.database.session() as session:
        token = create_token(session, "contact-centre", scopes=("items:write", "items:read"))
    webhooks.client.headers["Authorization"] = f"Bearer {token}"
    return webhooks.client


def _call(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "call_id": "call-0001",
        "caller_number": new_mobile(),
        "agent": "Dana (repairs)",
        "started_at": "2026-11-23T09:15:00Z",
        "turns": CALL_TURNS,
    }
    payload.update(overrides)
    return payload


# --- Twilio's transcription callback -----------------------------------------------------------


def test_a_transcription_callback_becomes_a_labelled_routed_item_and_the_caller_gets_a_text(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    caller = new_mobile()
    form = transcription_form(VOICEMAIL, caller=caller)
    response = webhooks.post(TRANSCRIPTION_PATH, form)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    with sms_runtime.database.session() as session:
        item = session.scalars(select(Item)).one()
        assert (item.channel, item.external_id, item.sender_address) == (
            "call_transcript",
            form["CallSid"],
            caller,
        )
        assert item.body == VOICEMAIL
        assert item.type == "complaint"
        assert item.queue in ("complaints", "emergency", "triage_review")
        assert {d.kind for d in item.deadlines} >= {"acknowledge", "respond"}
        assert item.details["recording_url"] == form["RecordingUrl"]
    [text] = twilio_standin.messages_to(caller)
    assert item.reference in text.form["Body"]


def test_a_failed_transcription_is_stored_for_a_person_to_listen_to(
    webhooks: TwilioWebhooks, sms_runtime: Runtime
) -> None:
    form = transcription_form("", caller=new_mobile(), status="failed")
    assert webhooks.post(TRANSCRIPTION_PATH, form).status_code == 200
    with sms_runtime.database.session() as session:
        item = session.scalars(select(Item)).one()
        assert item.queue == "triage_review"
        assert item.parse_error and "listen" in item.parse_error
        assert item.details["recording_url"] == form["RecordingUrl"]
        assert item.details["transcription_status"] == "failed"


def test_a_repeated_transcription_callback_for_the_same_call_makes_one_item(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    form = transcription_form(VOICEMAIL, caller=new_mobile())
    webhooks.post(TRANSCRIPTION_PATH, form)
    webhooks.post(TRANSCRIPTION_PATH, form)
    with sms_runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 1
    assert len(twilio_standin.messages) == 1


def test_a_transcription_callback_with_a_bad_signature_is_refused(
    webhooks: TwilioWebhooks, sms_runtime: Runtime
) -> None:
    response = webhooks.post(
        TRANSCRIPTION_PATH, transcription_form(VOICEMAIL, caller=new_mobile()), signature="x"
    )
    assert response.status_code == 403
    with sms_runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0


def test_a_landline_caller_with_no_email_is_recorded_as_needing_a_call_back(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    webhooks.post(TRANSCRIPTION_PATH, transcription_form(VOICEMAIL, caller=LANDLINE))
    with sms_runtime.database.session() as session:
        acknowledgement = session.scalars(select(Acknowledgement)).one()
        assert acknowledgement.status == "needs_callback"
        assert acknowledgement.recipient == LANDLINE
    assert twilio_standin.messages == []


def test_a_withheld_number_is_not_taken_for_the_callers_phone(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    webhooks.post(TRANSCRIPTION_PATH, transcription_form(VOICEMAIL, caller="+266696687"))
    with sms_runtime.database.session() as session:
        item = session.scalars(select(Item)).one()
        assert item.sender_address is None and item.contact_id is None
        assert item.details["caller_id_withheld"] is True
    assert twilio_standin.messages == []


# --- POST /api/v1/transcripts ----------------------------------------------------------------------


def test_a_posted_transcript_is_kept_whole_classified_on_the_callers_words_and_texted(
    api: TestClient, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    call = _call()
    response = api.post("/api/v1/transcripts", json=call)

    assert response.status_code == 202, response.text
    accepted = response.json()
    with sms_runtime.database.session() as session:
        item = session.get(Item, accepted["id"])
        assert item.reference == accepted["reference"]
        assert item.channel == "call_transcript"
        assert item.body.splitlines() == [
            "Agent: Good morning, repairs line, you're speaking to Dana, how can I help?",
            "Caller: Hi, my kitchen tap has started dripping and it won't turn off fully.",
            "Agent: Sorry to hear that. Can I take your postcode please?",
            "Caller: It's LS6 2AB, flat 4. Could someone come and have a look at it?",
        ]
        assert "tap" in (item.prepared_text or "")
        assert "speaking to Dana" not in (item.prepared_text or "")  # the agent's words are not classified
        assert item.type == "service_request"
        assert item.details["agent"] == "Dana (repairs)"
        assert 0.62 < item.details["caller_confidence"] < 0.91
        raw = session.scalars(select(RawMessage).where(RawMessage.item_id == item.id)).one()
        assert json.loads(raw.content) == call
    [text] = twilio_standin.messages_to(str(call["caller_number"]))
    assert item.reference in text.form["Body"]


def test_the_same_call_id_twice_is_one_item(api: TestClient, sms_runtime: Runtime) -> None:
    call = _call(call_id="call-42")
    first = api.post("/api/v1/transcripts", json=call)
    again = api.post("/api/v1/transcripts", json=call)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]


def test_a_plain_text_transcript_is_accepted(api: TestClient, sms_runtime: Runtime) -> None:
    response = api.post("/api/v1/transcripts", json=_call(turns=None, text=VOICEMAIL))
    assert response.status_code == 202
    with sms_runtime.database.session() as session:
        assert session.get(Item, response.json()["id"]).body == VOICEMAIL


def test_a_landline_caller_known_by_email_is_acknowledged_by_email(
    api: TestClient, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    response = api.post(
        "/api/v1/transcripts",
        json=_call(caller_number="020 7946 0000", caller_email="Pat.Resident@example.com"),
    )
    with sms_runtime.database.session() as session:
        item = session.get(Item, response.json()["id"])
        acknowledgement = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == item.id)
        ).one()
        assert (acknowledgement.channel, acknowledgement.recipient) == ("email", "pat.resident@example.com")
        assert acknowledgement.status == "sent"
    assert twilio_standin.messages == []


def test_transcripts_need_an_api_token(api: TestClient) -> None:
    response = api.post("/api/v1/transcripts", json=_call(), headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_call(text="hello"), "exactly one of 'text' or 'turns'"),
        (_call(turns=None), "exactly one of 'text' or 'turns'"),
        (_call(turns=[{"speaker": "supervisor", "text": "hi"}]), "turns.0.speaker"),
        (_call(started_at="2026-11-23T09:15:00"), "timezone"),
        (_call(caller_email="pat at home"), "caller_email"),
        ({"caller_number": "+447400100001", "text": "hi"}, "call_id"),
    ],
)
def test_bad_transcripts_get_a_clear_422_and_are_kept(
    api: TestClient, sms_runtime: Runtime, payload: dict[str, object], expected: str
) -> None:
    response = api.post("/api/v1/transcripts", json=payload)
    assert response.status_code == 422
    assert expected in response.json()["detail"]
    with sms_runtime.database.session() as session:
        assert session.scalars(select(RawMessage).where(RawMessage.item_id.is_(None))).one()
        assert session.scalar(select(func.count()).select_from(Item)) == 0


# --- the adapter on its own ---------------------------------------------------------------------------


def test_turns_become_readable_speaker_lines() -> None:
    turns = [
        TranscriptTurn(speaker="agent", text="Hello,\n  how can I help?"),
        TranscriptTurn(speaker="caller", text="My door"),
    ]
    assert readable_transcript(turns) == "Agent: Hello, how can I help?\nCaller: My door"


def test_call_ids_are_namespaced_by_the_sending_system() -> None:
    message = message_from_transcript(
        TranscriptIn(call_id="77", text="hello"), raw=b"{}", client_name="genesys"
    )
    assert message.external_id == "genesys:77"
    assert message.sender_phone is None
