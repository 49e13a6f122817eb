"""Subject access: the export holds everything about the resident and nothing of anyone else's."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from sqlalchemy import select

from intake.privacy import service
from intake.privacy.subjects import SubjectQuery
from intake.runtime import Runtime
from models import AccessLogEntry, Acknowledgement, Item, PrivacyRequest
from tests.privacy.conftest import (
    CORRECTION_REASON,
    EMAIL,
    NAME,
    NOTE,
    OTHER_EMAIL,
    OTHER_NAME,
    OTHER_STORY,
    PHONE,
    PHOTO,
    REPLY,
    STORY,
    Resident,
)

NOW = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)


def _open(content: bytes) -> tuple[dict, str, zipfile.ZipFile]:  # type: ignore[type-arg]
    archive = zipfile.ZipFile(io.BytesIO(content))
    return json.loads(archive.read("data.json")), archive.read("summary.html").decode(), archive


def test_the_resident_is_found_by_email_phone_and_contact_with_name_mentions_listed_to_confirm(
    runtime: Runtime, resident: Resident
) -> None:
    by_email = service.look_up(runtime, SubjectQuery(email=EMAIL.upper()))
    by_phone = service.look_up(runtime, SubjectQuery(phone="07911 123457"))
    assert by_email.item_ids == by_phone.item_ids == resident.mine
    by_contact = service.look_up(runtime, SubjectQuery(contact_id=by_email.contact_ids[0]))
    assert by_contact.item_ids == resident.mine
    assert [(c.item_id, c.why) for c in by_email.candidates] == [(resident.mention_id, "mentions their name")]
    assert resident.other_id not in by_email.item_ids + [c.item_id for c in by_email.candidates]


def test_the_export_holds_every_item_file_letter_reply_note_correction_and_classification(
    runtime: Runtime, resident: Resident
) -> None:
    result = service.export_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW)
    data, summary, archive = _open(result.content)

    assert [item["id"] for item in data["items"]] == resident.mine
    channels = {item["channel"] for item in data["items"]}
    assert channels == {"email", "sms", "web_form", "call_transcript"}
    with runtime.database.session() as session:
        sent = session.scalars(select(Acknowledgement).where(Acknowledgement.item_id.in_(resident.mine))).all()
        assert sent, "the resident was acknowledged"
        assert sorted(a["body_text"] for i in data["items"] for a in i["acknowledgements"]) == sorted(
            a.body_text for a in sent)
    complaint = next(i for i in data["items"] if i["id"] == resident.complaint_id)
    assert complaint["replies"][0]["text"] == REPLY
    assert {n["text"] for n in complaint["notes"]} == {NOTE, CORRECTION_REASON}  # the correction's reason too
    assert complaint["corrections"][0]["reason"] == CORRECTION_REASON
    assert all(item["classifications"] for item in data["items"] if item["channel"] != "sms" or item["type"])
    # The original files, byte for byte.
    assert archive.read(complaint["attachments"][0]["file"]) == PHOTO
    assert STORY.encode() in archive.read(complaint["raw_message"]["file"])
    assert result.counts["items"] == 5 and result.counts["attachments"] == 1
    # Readable: the summary shows their words, escaped.
    assert STORY in summary and NAME in summary and PHONE in data["contacts"][0]["phone"]
    # Nothing of anyone else's: not the other resident, not the advocate's unconfirmed letter.
    everything = json.dumps(data) + summary + "".join(archive.read(n).decode("latin-1") for n in archive.namelist())
    for foreign in (OTHER_NAME, OTHER_EMAIL, OTHER_STORY, "BLUEFINCH", "Ada Advocate", "advocate@example.com"):
        assert foreign not in everything


def test_a_confirmed_candidate_is_included(runtime: Runtime, resident: Resident) -> None:
    result = service.export_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW,
                                    confirm=[resident.mention_id, resident.other_id])  # not a candidate: ignored
    data, _, _ = _open(result.content)
    assert [i["id"] for i in data["items"]] == sorted([*resident.mine, resident.mention_id])


def test_each_export_is_a_request_with_its_due_date_and_an_access_entry(runtime: Runtime, resident: Resident) -> None:
    result = service.export_subject(runtime, SubjectQuery(phone=PHONE), actor="dpo", now=NOW)
    with runtime.database.session() as session:
        request = session.get(PrivacyRequest, result.request_id)
        assert request is not None
        assert (request.kind, request.status, request.due_at) == ("export", "done", datetime(2026, 9, 3, 10, 0, tzinfo=UTC))
        assert PHONE not in request.subject_hint and request.subject_hint.endswith("457")
        entries = session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "export")).all()
        assert [(e.actor, e.target, e.details["found"]) for e in entries] == [
            ("dpo", f"request:{result.request_id}", resident.mine)]
        assert session.get(Item, resident.other_id) is not None
