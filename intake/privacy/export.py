"""The subject-access export: everything held about a person, as a readable HTML summary plus JSON.

The zip holds `summary.html` (for the resident), `data.json` (machine-readable, UK GDPR Art. 15 and
20), and the original files: each raw message as it arrived and each attachment. Only the items
given are read, so nothing of anyone else's can slip in through a shared case.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.privacy.notes import notes_for_items
from models import (
    Acknowledgement,
    Attachment,
    AuditEntry,
    CaseNote,
    ClassificationRun,
    Contact,
    Correction,
    Deadline,
    Item,
    RawMessage,
)

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

ITEM_FIELDS = (
    "id", "reference", "channel", "received_at", "subject", "body", "sender_name", "sender_address",
    "type", "categories", "flags", "hazards", "queue", "confidence", "model_version", "language",
    "routing_reason", "review_reason", "complaint_stage", "case_status", "outcome", "closed_at",
    "assigned_to", "case_id", "details", "explanation",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def _safe_name(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum() or ch in "._-")[:100] or "file"


def collect(session: Session, *, item_ids: list[int], contact_ids: list[int]) -> dict[str, Any]:
    """Everything about these items and contacts, as plain data (files listed by their zip path)."""
    items = list(session.scalars(select(Item).where(Item.id.in_(item_ids)).order_by(Item.received_at, Item.id)))
    ids = [item.id for item in items]

    def rows(model: Any, order: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.item_id.in_(ids)).order_by(order))) if ids else []

    by_item: dict[int, dict[str, Any]] = {item.id: {**_row(item, ITEM_FIELDS)} for item in items}
    for entry in by_item.values():
        entry.update(raw_message=None, attachments=[], acknowledgements=[], replies=[], notes=[],
                     corrections=[], classifications=[], deadlines=[], history=[])
    for raw in rows(RawMessage, RawMessage.id):
        by_item[raw.item_id]["raw_message"] = {
            "content_type": raw.content_type, "sha256": raw.sha256, "bytes": len(raw.content or b""),
            "file": f"raw/item-{raw.item_id}{_extension(raw.content_type)}",
        }
    for attachment in rows(Attachment, Attachment.id):
        by_item[attachment.item_id]["attachments"].append({
            "filename": attachment.filename, "content_type": attachment.content_type, "size": attachment.size,
            "sha256": attachment.sha256,
            "file": (f"attachments/item-{attachment.item_id}/{attachment.id}-{_safe_name(attachment.filename)}"
                     if attachment.content is not None else None),
        })
    for ack in rows(Acknowledgement, Acknowledgement.id):
        by_item[ack.item_id]["acknowledgements"].append(_row(ack, (
            "purpose", "channel", "recipient", "subject", "body_text", "status", "created_at", "sent_at")))
    for note in notes_for_items(session, ids):
        entry = {"at": _plain(note.created_at), "by": note.author, "about": note.action, "text": note.text}
        by_item[note.item_id]["replies" if note.action == "response_recorded" else "notes"].append(entry)  # type: ignore[index]
    for staff_note in rows(CaseNote, CaseNote.id):  # staff's internal notes on the case
        by_item[staff_note.item_id]["notes"].append(
            {"at": _plain(staff_note.created_at), "by": staff_note.author, "about": "note", "text": staff_note.body})
    for correction in rows(Correction, Correction.id):
        by_item[correction.item_id]["corrections"].append(_row(correction, (
            "created_at", "corrected_by", "before", "after", "reason")))
    for run in rows(ClassificationRun, ClassificationRun.id):
        by_item[run.item_id]["classifications"].append(
            {"at": _plain(run.created_at), "model_version": run.model_version, "result": run.result})
    for deadline in rows(Deadline, Deadline.id):
        by_item[deadline.item_id]["deadlines"].append(_row(deadline, (
            "kind", "stage", "due_at", "basis", "met_at", "superseded_at")))
    for audit in rows(AuditEntry, AuditEntry.id):
        by_item[audit.item_id]["history"].append(
            {"at": _plain(audit.at), "by": audit.actor, "what": audit.action})
    contacts = list(session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))) if contact_ids else []
    return {
        "contacts": [_row(c, ("id", "name", "email", "phone", "role", "consent_notes", "created_at")) for c in contacts],
        "items": [by_item[i] for i in ids],
    }


def _extension(content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    return {"message/rfc822": ".eml", "application/json": ".json", "text/plain": ".txt"}.get(kind, ".bin")


def build_zip(session: Session, *, item_ids: list[int], contact_ids: list[int], request_id: int,
              subject_hint: str, now: datetime) -> tuple[bytes, dict[str, int]]:
    """The export as zip bytes, and counts of what it holds."""
    data = collect(session, item_ids=item_ids, contact_ids=contact_ids)
    data = {"request": {"id": request_id, "subject": subject_hint, "made_at": now.isoformat()}, **data}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
        archive.writestr("summary.html", _templates.get_template("export.html").render(data=data))
        ids = [item["id"] for item in data["items"]]
        for raw in session.scalars(select(RawMessage).where(RawMessage.item_id.in_(ids))) if ids else []:
            archive.writestr(f"raw/item-{raw.item_id}{_extension(raw.content_type)}", raw.content or b"")
        for attachment in session.scalars(select(Attachment).where(Attachment.item_id.in_(ids))) if ids else []:
            if attachment.content is not None:
                path = f"attachments/item-{attachment.item_id}/{attachment.id}-{_safe_name(attachment.filename)}"
                archive.writestr(path, attachment.content)
    items = data["items"]
    counts = {
        "items": len(items),
        "raw_messages": sum(1 for i in items if i["raw_message"]),
        "attachments": sum(len(i["attachments"]) for i in items),
        "acknowledgements": sum(len(i["acknowledgements"]) for i in items),
        "replies": sum(len(i["replies"]) for i in items),
        "notes": sum(len(i["notes"]) for i in items),
        "corrections": sum(len(i["corrections"]) for i in items),
        "classifications": sum(len(i["classifications"]) for i in items),
    }
    return buffer.getvalue(), counts
