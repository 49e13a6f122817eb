"""One resident with messages on every channel, a case with follow-ups, attachments, corrections and
replies — and someone else, whose data must never leak into the resident's export or be erased."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from channels.message import Attachment, InboundMessage
from intake import cases, replies
from intake.app import create_app
from intake.corrections import correct_item
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import Item

NAME = "Morwenna Trelawney-Quist"
EMAIL = "morwenna.tq@example.org"
PHONE = "+447911123457"
# Words only this resident wrote: after erasure, no copy of them may be anywhere.
STORY = "the zebra-striped radiator in flat 9 Quillon Court"
PHOTO = b"\xff\xd8\xff\xe0JFIF QUILLON-DAMP-PHOTO " + b"\x00" * 64
REPLY = "Surveyor Ardent booked for the Quillon radiator"
NOTE = "Resident prefers calls after Quillon school run"
CORRECTION_REASON = "clearly a complaint about the Quillon radiator"

OTHER_NAME = "Bartholomew Ng"
OTHER_EMAIL = "bart.ng@example.net"
OTHER_STORY = "the bluefinch nesting in my gutter at Oxpecker Row"

RECEIVED = datetime(2026, 7, 6, 9, 30, tzinfo=UTC)
STAFF = "sam"


def _attachment(name: str, content: bytes, kind: str) -> Attachment:
    return Attachment(name, kind, len(content), hashlib.sha256(content).hexdigest(), content)


@dataclass
class Resident:
    complaint_id: int
    follow_up_id: int
    sms_id: int
    form_id: int
    call_id: int
    mention_id: int  # another sender's message naming the resident: a candidate to confirm
    other_id: int
    mine: list[int] = field(default_factory=list)


def _message(channel: str, external_id: str, body: str, minutes: int, **extra: object) -> InboundMessage:
    return InboundMessage(channel=channel, external_id=external_id, body=body,
                          received_at=RECEIVED + timedelta(minutes=minutes), **extra)  # type: ignore[arg-type]


def build_resident(runtime: Runtime) -> Resident:
    # Some mail clients put the sender's own address inside their Message-IDs: those are personal too.
    complaint = ingest(runtime, _message(
        "email", f"<q1.{EMAIL}>", f"I am unhappy: {STORY} has leaked for weeks and nobody came. {NAME}", 0,
        subject="Complaint: damp at 9 Quillon Court", sender_address=EMAIL, sender_email=EMAIL, sender_name=NAME,
        raw=(f"From: {NAME} <{EMAIL}>\r\nSubject: Complaint\r\n\r\n{STORY}\r\n").encode(),
        raw_content_type="message/rfc822", attachments=[_attachment("quillon-damp.jpg", PHOTO, "image/jpeg")],
    ))
    follow_up = ingest(runtime, _message(
        "email", "<q2@example.org>", f"Still waiting about {STORY}. Please call {PHONE}.", 60,
        subject="Re: Complaint: damp at 9 Quillon Court", sender_address=EMAIL, sender_email=EMAIL,
        sender_name=NAME, thread_keys=[f"<q1.{EMAIL}>"],
    ))
    sms = ingest(runtime, _message("sms", "SMquillon0001", f"Hi its {NAME}, the Quillon radiator is hissing", 120,
                                   sender_address=PHONE, sender_phone=PHONE))
    form = ingest(runtime, _message(
        "web_form", "form-quillon-1", "Can I have a copy of my Quillon Court tenancy agreement?", 180,
        subject="Tenancy agreement", sender_address=EMAIL, sender_email=EMAIL, sender_phone=PHONE,
        sender_name=NAME, raw=f'{{"full_name": "{NAME}", "email": "{EMAIL}"}}'.encode(),
        raw_content_type="application/json", metadata={"form": {"sender_role": "tenant", "resident_name": NAME}},
    ))
    call = ingest(runtime, _message(
        "call_transcript", "call-quillon-1", f"Agent: Hello.\nCaller: It's {NAME} about {STORY}.", 240,
        sender_address=PHONE, sender_phone=PHONE,
    ))
    mention = ingest(runtime, _message(
        "email", "<advocate-1@example.com>", f"I write as advocate for {NAME} of Quillon Court.", 300,
        subject="On behalf of a tenant", sender_address="advocate@example.com", sender_email="advocate@example.com",
        sender_name="Ada Advocate",
    ))
    other = ingest(runtime, _message(
        "email", "<bart@example.net>", f"Please look at {OTHER_STORY}.", 360, subject="Gutter",
        sender_address=OTHER_EMAIL, sender_email=OTHER_EMAIL, sender_name=OTHER_NAME,
        attachments=[_attachment("bluefinch.jpg", b"BLUEFINCH-PHOTO", "image/jpeg")],
    ))
    with runtime.database.session() as session:
        root = session.get(Item, complaint.item_id)
        assert root is not None
        # Whatever the model said, staff correct the labels (a correction is training data).
        categories = ["poor_quality"] if root.type == "complaint" and root.categories == ["delay"] else ["delay"]
        correct_item(runtime, session, root, user=STAFF, type="complaint", categories=categories, flags=[],
                     queue=None, reason=CORRECTION_REASON)
    with runtime.database.session() as session:
        root = session.get(Item, complaint.item_id)
        cases.record_response(runtime, session, root, actor=STAFF, summary=REPLY)  # type: ignore[arg-type]
        cases.assign(session, root, actor=STAFF, assignee=STAFF)  # type: ignore[arg-type]
        # An email reply from the workspace: its threading headers quote the resident's Message-IDs.
        replies.plan_reply(runtime, session, root, key="reply-quillon-1", author=STAFF, channel="email",  # type: ignore[arg-type]
                           subject="Your complaint", body="We have booked the surveyor for your radiator.")
        from intake import audit

        audit.record(session, actor=STAFF, action="note_added", item_id=root.id, note=NOTE)  # type: ignore[union-attr]
    resident = Resident(complaint.item_id, follow_up.item_id, sms.item_id, form.item_id, call.item_id,
                        mention.item_id, other.item_id)
    resident.mine = sorted([complaint.item_id, follow_up.item_id, sms.item_id, form.item_id, call.item_id])
    return resident


@pytest.fixture
def resident(runtime: Runtime) -> Resident:
    return build_resident(runtime)


def close_case(runtime: Runtime, item_id: int) -> None:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        cases.close(runtime, session, item, actor=STAFF, outcome="upheld")  # type: ignore[arg-type]


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url="http://127.0.0.1") as test_client:
        yield test_client
