"""Call transcripts: Twilio's transcription callback, and the payload of `POST /api/v1/transcripts`
for any telephony or speech-to-text system. Pure: the endpoints live in intake/api/.

The whole transcript is kept for staff (`body`, one "Agent: …" / "Caller: …" line per turn, and the
payload as `raw`); the classifier's transcript preparation picks out the caller's words, which are
what gets classified. A call is acknowledged on the caller's mobile — the core routes
`call_transcript` acknowledgements to SMS when the number can take texts, else email, else call-back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from channels.base import Refused
from channels.json_payload import EARLIEST_RECEIVED_AT, LATEST_RECEIVED_AT, parse_json
from channels.message import InboundMessage
from channels.phone import normalise_phone
from channels.senders import clean_email
from channels.sms import FORM_CONTENT_TYPE, parse_form

CHANNEL = "call_transcript"
# What carriers and Twilio put in `From` when the caller withheld their number: not a person's phone.
WITHHELD_CALLER_IDS = frozenset(
    {
        "+266696687",
        "+86282452253",
        "+8656696",
        "+7378742833",
        "+2562533",
        "anonymous",
        "restricted",
        "unknown",
    }
)
SPEAKER_LABELS = {"agent": "Agent", "caller": "Caller"}


# --- Twilio's transcription callback ----------------------------------------------------------


def message_from_twilio_transcription(
    form: Mapping[str, str], *, raw: bytes, received_at: datetime | None = None
) -> InboundMessage:
    """A recorded call (usually a voicemail: all of it is the caller) as the pipeline takes it.

    A failed transcription is still stored — with `parse_error`, so it goes to triage_review and a
    person listens to the recording.
    """
    status = (form.get("TranscriptionStatus") or "").strip().lower()
    text = form.get("TranscriptionText") or ""
    caller = caller_phone(form.get("From"))
    parse_error = None
    if status != "completed":
        parse_error = (
            f"Twilio could not transcribe the recording (status {status or 'missing'}): listen to it"
        )
    elif not text.strip():
        parse_error = "the transcription is empty: listen to the recording"
    metadata: dict[str, Any] = {
        "source": "twilio",
        "call_sid": form.get("CallSid") or None,
        "recording_sid": form.get("RecordingSid") or None,
        "recording_url": form.get("RecordingUrl") or None,
        "transcription_sid": form.get("TranscriptionSid") or None,
        "transcription_status": status or None,
        "to": normalise_phone(form.get("To")) or form.get("To") or None,
        "caller_id_withheld": caller is None and bool(form.get("From")),
    }
    return InboundMessage(
        channel=CHANNEL,
        external_id=(form.get("CallSid") or form.get("RecordingSid") or "").strip(),
        body=text,
        # None: the pipeline stamps it with the runtime's clock as it takes the message in.
        received_at=received_at,
        sender_address=caller,
        sender_phone=caller,
        sender_name=form.get("CallerName") or None,
        raw=raw,
        raw_content_type=FORM_CONTENT_TYPE,
        parse_error=parse_error,
        metadata={key: value for key, value in metadata.items() if value not in (None, False)},
    )


def caller_phone(raw: str | None) -> str | None:
    """The caller's number in E.164, or None when it was withheld or is not a phone number."""
    if not raw or raw.strip().lower() in WITHHELD_CALLER_IDS:
        return None
    return normalise_phone(raw)


# --- the payload of POST /api/v1/transcripts ---------------------------------------------------


class TranscriptTurn(BaseModel):
    speaker: Literal["agent", "caller"]
    text: str
    confidence: float | None = Field(default=None, ge=0.0, le=1.0, description="speech-to-text confidence")


class TranscriptIn(BaseModel):
    """One call. Send either `text` (a voicemail, or a transcript with its own labels) or `turns`."""

    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(
        min_length=1, max_length=200, description="a repeat with the same id makes no new item"
    )
    caller_number: str | None = Field(default=None, max_length=64, description="the number the call came from")
    caller_name: str | None = Field(default=None, max_length=200)
    caller_email: str | None = Field(
        default=None, max_length=320, description="known to the contact centre: the fallback for a landline"
    )
    agent: str | None = Field(default=None, max_length=200, description="who took the call")
    started_at: datetime | None = Field(default=None, description="with a timezone; between 1990 and 2999")
    text: str | None = None
    turns: list[TranscriptTurn] | None = None

    @field_validator("started_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("started_at needs a timezone, e.g. 2026-11-23T09:15:00Z")
        if not EARLIEST_RECEIVED_AT <= value <= LATEST_RECEIVED_AT:
            raise ValueError("started_at must be between 1990 and 2999")
        return value

    @field_validator("call_id", "caller_number", "caller_name", "caller_email", "agent", "text")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL cannot store NUL in text or jsonb; the raw payload keeps the original bytes.
        return None if value is None else value.replace("\x00", "\ufffd")

    @field_validator("caller_email")
    @classmethod
    def _looks_like_email(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError("caller_email is not an email address")
        return value

    @model_validator(mode="after")
    def _text_or_turns(self) -> TranscriptIn:
        if (self.text is None) == (self.turns is None):
            raise ValueError("send exactly one of 'text' or 'turns'")
        return self


def readable_transcript(turns: list[TranscriptTurn]) -> str:
    """One line per turn ("Agent: …", "Caller: …"): what staff read, and what the classifier splits."""
    return "\n".join(f"{SPEAKER_LABELS[turn.speaker]}: {' '.join(turn.text.split())}" for turn in turns)


def message_from_transcript(transcript: TranscriptIn, *, raw: bytes, client_name: str) -> InboundMessage:
    caller = caller_phone(transcript.caller_number)
    email = clean_email(transcript.caller_email)
    body = readable_transcript(transcript.turns) if transcript.turns is not None else transcript.text or ""
    metadata: dict[str, Any] = {"source": f"api:{client_name}", "call_id": transcript.call_id}
    if transcript.agent:
        metadata["agent"] = transcript.agent
    if transcript.turns is not None:
        metadata["turns"] = len(transcript.turns)
        metadata.update(_caller_confidence(transcript.turns))
    return InboundMessage(
        channel=CHANNEL,
        # Namespaced by the sending system, as in /api/v1/items: two systems' call ids never collide.
        external_id=f"{client_name}:{transcript.call_id}",
        body=body,
        # No start time given: the pipeline stamps it with the runtime's clock.
        received_at=transcript.started_at,
        sender_address=caller or email,
        sender_name=transcript.caller_name,
        sender_email=email,
        sender_phone=caller,
        raw=raw,
        raw_content_type="application/json",
        parse_error=None if body.strip() else "the transcript is empty",
        metadata=metadata,
    )


def _caller_confidence(turns: list[TranscriptTurn]) -> dict[str, Any]:
    """How sure the speech-to-text was of the caller's words (weighted by length), for staff to see."""
    scored = [
        (len(t.text), t.confidence) for t in turns if t.speaker == "caller" and t.confidence is not None
    ]
    total = sum(length for length, _ in scored)
    if total == 0:
        return {}
    return {"caller_confidence": round(sum(length * confidence for length, confidence in scored) / total, 3)}


# --- the adapters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwilioTranscriptionAdapter:
    """Twilio's transcription callback (a signed form): one item per CallSid."""

    channel: str = CHANNEL

    def parse(self, raw: bytes, headers: Mapping[str, str]) -> InboundMessage | Refused:
        form = parse_form(raw)
        if form is None:
            return Refused("a Twilio webhook body must be UTF-8 form data", self.channel, FORM_CONTENT_TYPE)
        return self.from_form(form, raw=raw)

    def from_form(self, form: Mapping[str, str], *, raw: bytes) -> InboundMessage:
        """The message from a form already read (the webhook parsed it once to check its signature)."""
        return message_from_twilio_transcription(form, raw=raw)


@dataclass(frozen=True)
class TranscriptApiAdapter:
    """`POST /api/v1/transcripts` from one calling system (its call ids are namespaced by its name)."""

    client_name: str
    channel: str = CHANNEL

    def parse(self, raw: bytes, headers: Mapping[str, str]) -> InboundMessage | Refused:
        transcript = parse_json(raw, TranscriptIn, what="transcript", channel=self.channel)
        if isinstance(transcript, Refused):
            return transcript
        return message_from_transcript(transcript, raw=raw, client_name=self.client_name)
