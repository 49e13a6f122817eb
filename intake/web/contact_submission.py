"""Turns a checked contact-form submission into an `InboundMessage` and hands it to the pipeline."""

from __future__ import annotations

import json

from channels.message import InboundMessage
from intake.pipeline import IngestResult, ingest
from intake.runtime import Runtime
from intake.web.contact_form import SENDER_ROLES, ContactSubmission


def submit_contact_form(runtime: Runtime, submission: ContactSubmission, *, actor: str) -> IngestResult:
    """Store the submission once (the submission token is its external id) and queue its processing."""
    reply_address = submission.email if submission.reply_by == "email" else submission.mobile
    form_details = {
        "sender_role": submission.sender_role,
        "sender_role_label": SENDER_ROLES[submission.sender_role][0],
        "resident_name": submission.resident_name,
        "reply_by": submission.reply_by,
    }
    raw = {
        "full_name": submission.full_name,
        "email": submission.email,
        "mobile": submission.mobile,
        **form_details,
        "subject": submission.subject,
        "message": submission.message,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
            for a in submission.attachments
        ],
    }
    message = InboundMessage(
        channel="web_form",
        external_id=submission.submission_token,
        body=submission.message,
        subject=submission.subject,
        sender_address=reply_address,
        sender_name=submission.full_name,
        sender_email=submission.email,
        sender_phone=submission.mobile,
        sender_role=SENDER_ROLES[submission.sender_role][1],
        raw=json.dumps(raw, ensure_ascii=False, indent=1).encode("utf-8"),
        raw_content_type="application/json; charset=utf-8",
        attachments=list(submission.attachments),
        ack_channel=submission.reply_by,
        metadata={"form": form_details},
    )
    return ingest(runtime, message, actor=actor)
