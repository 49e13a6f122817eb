"""Erasure and restriction: the person's personal data replaced by a marker everywhere it is kept.

What is replaced, per item: its text fields, sender, headers and channel details; the raw bytes;
attachments; acknowledgement bodies and the outbox file of each; replies' threading headers
(Message-IDs can carry an address); case notes; correction reasons (the
corrections are the model's training data); classification runs (they hold the prepared text). Their
contact record and SMS opt-out go too. What stays: ids, dates, channel, type, categories, flags,
queue, stage, outcome, deadlines and the audit log (which holds ids and fingerprints, never text) —
so every report counts the same before and after.

Refused while a complaint of theirs is open or a legal hold is set, unless an admin overrides with a
recorded reason. Restriction keeps everything but hides the items from everyone except admins.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.runtime import Runtime
from models import (
    Acknowledgement,
    Attachment,
    AuditText,
    CaseNote,
    ClassificationRun,
    Contact,
    Correction,
    Item,
    RawMessage,
    Reply,
    SmsOptOut,
)

log = logging.getLogger(__name__)

# Channel details that say nothing about the person (counts, flags, our own ids): kept for reports.
KEPT_DETAILS = (
    "responses", "extended_until", "reopened", "quoted_case_id", "num_segments", "sms_keyword", "ack_channel",
    "sender_role",
)
KEPT_FORM_DETAILS = ("sender_role", "sender_role_label", "reply_by")
# What a classification keeps: the labels reports count, not the text the model read.
KEPT_RESULT_KEYS = ("type", "categories", "flags", "queue", "confidence", "model_version", "language")


@dataclass
class ErasureCounts:
    items: int = 0
    raw_messages: int = 0
    attachments: int = 0
    acknowledgements: int = 0
    outbox_files: int = 0
    notes: int = 0
    corrections: int = 0
    classifications: int = 0
    contacts: int = 0
    opt_outs: int = 0
    rejected_payloads: int = 0
    model_versions_to_retrain: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def retrain_needed(self) -> bool:
        return bool(self.model_versions_to_retrain)


def refusals(session: Session, item_ids: Iterable[int]) -> list[str]:
    """Why these items may not be erased yet: an open complaint of theirs, a legal hold."""
    reasons: list[str] = []
    items = list(session.scalars(select(Item).where(Item.id.in_(list(item_ids))).order_by(Item.id)))
    roots = {item.case_root_id for item in items}
    for root in session.scalars(select(Item).where(Item.id.in_(roots)).order_by(Item.id)):
        if root.type == "complaint" and root.case_status == "open":
            reasons.append(f"complaint {root.reference or root.id} is open")
    for item in items:
        if item.legal_hold:
            reasons.append(f"legal hold on {item.reference or item.id}: {item.legal_hold}")
    return reasons


def _marker_bytes(marker: str) -> bytes:
    return marker.encode("utf-8")


def anonymise_items(runtime: Runtime, session: Session, item_ids: Iterable[int], *, now: datetime) -> ErasureCounts:
    """Replace the personal data of these items (and everything hanging off them) with the marker."""
    marker = runtime.settings.privacy.marker
    counts = ErasureCounts()
    ids = sorted(set(item_ids))
    if not ids:
        return counts
    for item in session.scalars(select(Item).where(Item.id.in_(ids))):
        _anonymise_item(item, marker, now)
        counts.items += 1
    for raw in session.scalars(select(RawMessage).where(RawMessage.item_id.in_(ids))):
        raw.content = _marker_bytes(marker)
        raw.sha256 = hashlib.sha256(raw.content).hexdigest()
        raw.content_type = "text/plain; charset=utf-8"
        raw.rejected_reason = marker if raw.rejected_reason else None
        counts.raw_messages += 1
    for attachment in session.scalars(select(Attachment).where(Attachment.item_id.in_(ids))):
        attachment.content = None
        attachment.filename = marker
        attachment.sha256 = ""
        counts.attachments += 1
    for ack in session.scalars(select(Acknowledgement).where(Acknowledgement.item_id.in_(ids))):
        ack.recipient = None
        ack.subject = marker if ack.subject else None
        ack.body_text = marker
        ack.body_html = None
        ack.last_error = None
        counts.acknowledgements += 1
        counts.outbox_files += _erase_outbox_copy(runtime.settings.outbox_dir, ack, marker)
    for reply in session.scalars(select(Reply).where(Reply.item_id.in_(ids))):
        # Threading headers quote the resident's Message-IDs, which some mail clients build from
        # their address; the reply's text itself is its acknowledgement row, erased above.
        reply.in_reply_to = None
        reply.references = []
    for text in session.scalars(select(AuditText).where(AuditText.item_id.in_(ids))):
        text.text = marker
        counts.notes += 1
    for note in session.scalars(select(CaseNote).where(CaseNote.item_id.in_(ids))):  # staff's internal notes
        note.body = marker
        counts.notes += 1
    for correction in session.scalars(select(Correction).where(Correction.item_id.in_(ids))):
        correction.reason = marker if correction.reason else None
        counts.corrections += 1
    for run in session.scalars(select(ClassificationRun).where(ClassificationRun.item_id.in_(ids))):
        run.result = {key: run.result.get(key) for key in KEPT_RESULT_KEYS if key in (run.result or {})}
        counts.classifications += 1
    counts.model_versions_to_retrain = _versions_trained_on(runtime, session, ids)
    return counts


def _anonymise_item(item: Item, marker: str, now: datetime) -> None:
    item.subject = marker if item.subject else None
    item.body = marker
    item.prepared_text = marker if item.prepared_text is not None else None
    item.sender_address = None
    item.sender_name = None
    item.external_id = f"erased:{item.id}"  # Message-IDs carry addresses; unique per channel still
    item.headers = {}
    item.thread_keys = []
    form = item.details.get("form") if isinstance(item.details.get("form"), dict) else None
    details = {key: item.details[key] for key in KEPT_DETAILS if key in item.details}
    if form is not None:
        details["form"] = {key: form[key] for key in KEPT_FORM_DETAILS if key in form}
    item.details = details
    explanation = item.explanation or {}
    item.explanation = {
        "erased": True,
        **{key: explanation[key] for key in ("type_probabilities", "category_probabilities") if key in explanation},
    }
    item.legal_hold = marker if item.legal_hold else None  # an overridden hold's reason may name them
    item.review_reason = marker if item.review_reason else None
    item.parse_error = marker if item.parse_error else None
    item.erased_at = now


def _erase_outbox_copy(outbox_dir: Path, ack: Acknowledgement, marker: str) -> int:
    """The file the outbox sender wrote for this acknowledgement (var/outbox/<channel>/<id>.txt)."""
    if not outbox_dir.is_dir():
        return 0
    erased = 0
    for path in outbox_dir.glob(f"*/{ack.id:08d}.txt"):
        path.write_text(f"To: {marker}\n\n{marker}\n", encoding="utf-8")
        erased += 1
    return erased


def _versions_trained_on(runtime: Runtime, session: Session, item_ids: list[int]) -> list[str]:
    """Model versions that may have learned from these items' corrections: they need a retrain."""
    from classifier import ModelRegistry

    corrections = list(session.scalars(select(Correction).where(Correction.item_id.in_(item_ids))))
    if not corrections:
        return []
    registry = ModelRegistry(runtime.settings.model_dir)
    earliest = min(c.created_at for c in corrections)
    named = {c.trained_in_version for c in corrections if c.trained_in_version}
    versions = []
    for version in registry.versions():
        created = str(registry.metadata(version).get("created_at", ""))
        if version in named or created >= earliest.isoformat(timespec="seconds"):
            versions.append(version)
    return versions


def erase_contacts(session: Session, contact_ids: Iterable[int], phones: Iterable[str]) -> tuple[int, int]:
    """Blank their contact records and drop their SMS opt-out rows; the contact ids stay for the items."""
    contacts = 0
    for contact in session.scalars(select(Contact).where(Contact.id.in_(list(contact_ids)))):
        contact.name = contact.email = contact.phone = contact.consent_notes = None
        contacts += 1
    opt_outs = 0
    for row in session.scalars(select(SmsOptOut).where(SmsOptOut.phone.in_(list(phones)))):
        session.delete(row)
        opt_outs += 1
    return contacts, opt_outs


def erase_rejected_payloads(session: Session, identifiers: Iterable[str], marker: str) -> int:
    """Payloads refused at the door (no item) that carry one of their identifiers."""
    needles = [value.lower().encode("utf-8") for value in identifiers if len(value) >= 4]
    if not needles:
        return 0
    erased = 0
    query = select(RawMessage).where(RawMessage.item_id.is_(None)).execution_options(yield_per=200)
    for raw in session.scalars(query):
        content = (raw.content or b"").lower()
        if any(needle in content for needle in needles):
            raw.content = _marker_bytes(marker)
            raw.sha256 = hashlib.sha256(raw.content).hexdigest()
            erased += 1
    return erased


def set_restriction(session: Session, item_ids: Iterable[int], *, restricted: bool, now: datetime) -> int:
    changed = 0
    for item in session.scalars(select(Item).where(Item.id.in_(list(item_ids)))):
        item.restricted_at = now if restricted else None
        changed += 1
    return changed


def visible_to(role: str, item: Item) -> bool:
    """A restricted item is shown to admins only."""
    return item.restricted_at is None or role == "admin"


def compact_storage(runtime: Runtime, tables: Iterable[str]) -> bool:
    """Make freed database pages forget what they held (run after the erasure has committed).

    SQLite keeps deleted text in free pages and in the WAL: VACUUM rebuilds the file and a TRUNCATE
    checkpoint empties the WAL. PostgreSQL keeps old row versions until VACUUM reclaims them.
    False when the database was too busy: the erasure stands, and the next erasure or retention run
    (or a manual VACUUM) finishes the job.
    """
    engine = runtime.database.engine
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA secure_delete=ON")
            # The search index (FTS5) records a deletion as a marker beside the old terms; merging
            # its segments drops the erased words before VACUUM rewrites the file.
            if cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'items_fts'").fetchone():
                cursor.execute("INSERT INTO items_fts(items_fts) VALUES ('optimize')")
                raw.commit()
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            for table in tables:
                cursor.execute(f'VACUUM "{table}"')  # table names are ours, never user input
            raw.driver_connection.autocommit = False  # type: ignore[union-attr]
        cursor.close()
    except Exception as error:  # a busy database must not undo a committed erasure
        log.warning("could not compact the database after erasure: %s", type(error).__name__)
        return False
    finally:
        raw.close()
    return True


ERASED_TABLES = (
    "items", "raw_messages", "attachments", "acknowledgements", "audit_texts", "case_notes", "corrections",
    "classification_runs", "contacts", "sms_opt_outs",
)
