"""Replies to residents written in the workspace (email and SMS), sent like acknowledgements.

An officer starts from a template (intake/reply_templates.py), edits the text and sends. `plan_reply`
writes one `Reply` (its `key` is the form's one-time token, unique: a double click or a resent form
is one reply) and one `Acknowledgement` row with purpose `reply_<id>` holding the text as written.
From there the acknowledgement machinery sends it: the same senders, retries and sweep, so a reply
is never sent twice — pending -> sending -> sent, and a crash mid-send leaves it `unknown` for a
person to check (intake/acknowledgements.py). `send_acknowledgement` sends a reply's stored text
as it is (it re-renders only the template letters) and threads it with what the `Reply` row says.

Threading: an email reply answers the resident's latest email on the case (In-Reply-To) and its
References carry the case's email thread and the Message-IDs of our earlier letters; the case
reference is in the subject. A text goes to the resident's number, unless it has opted out (STOP).

"This is the stage response": once the reply is sent, `record_stage_responses` records the
response through `intake.cases.record_response`, dated when it was sent, so the response deadline
is met by the letter itself and never by a letter that failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.email_headers import is_valid_message_id
from channels.phone import can_receive_sms, looks_like_phone, normalise_phone
from intake import audit, cases, deadlines
from intake.errors import InvalidTransition
from intake.items import case_items
from intake.runtime import Runtime
from models import Acknowledgement, Contact, Item, Reply, SmsOptOut
from triage_rules.acknowledgement_wording import sms_segments

log = logging.getLogger(__name__)

REPLY_PREFIX = "reply_"
MAX_BODY = 10_000
MAX_SUBJECT = 150
# Twilio joins up to 10 parts; a reply by text should still read as a text, not a letter.
MAX_SMS_SEGMENTS = 6
# A guard against a loop or a slip (a script, a stuck key), not a quota on care: replies to one
# address in 24 hours, counted across the whole service.
MAX_REPLIES_PER_RECIPIENT_PER_DAY = 10
SENT = ("sent", "delivered")


class ReplyRefused(InvalidTransition):
    """This reply cannot go (no address, opted out, our own address, ...): `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Recipients:
    email: str | None
    phone: str | None  # E.164
    sms_refusal: str | None  # why a text cannot go to `phone`, when it cannot


def recipients(runtime: Runtime, session: Session, root: Item) -> Recipients:
    """Where a reply on this case can go: the contact's details, else the latest sender's."""
    contact = session.get(Contact, root.contact_id) if root.contact_id else None
    members = list(reversed(case_items(session, root.id)))  # newest first
    email = contact.email if contact and contact.email else None
    phone = contact.phone if contact and contact.phone else None
    for member in members:
        address = member.sender_address
        if email is None and address and "@" in address:
            email = address.strip().lower()
        if phone is None and looks_like_phone(address):
            phone = normalise_phone(address)
    own = {address.lower() for address in runtime.settings.landlord_addresses}
    if email and (email in own or "@" + email.rpartition("@")[2] in own):
        email = None  # one of our own addresses: a reply would loop back into the intake
    refusal = None
    if phone is None:
        refusal = "No mobile number is known for this case"
    elif not can_receive_sms(phone):
        refusal = "The number on this case cannot receive text messages: phone the resident instead"
    elif (opt_out := session.get(SmsOptOut, phone)) is not None and opt_out.opted_out:
        refusal = "The resident has opted out of text messages (STOP): write by email or phone them"
    return Recipients(email=email, phone=phone, sms_refusal=refusal)


def thread_for(session: Session, root: Item) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) for an email reply on the case: the resident's latest email, and
    the case's thread with our own earlier letters, oldest first."""
    members = case_items(session, root.id)
    emails = [member for member in members if member.channel == "email"]
    references: list[str] = []
    for member in emails:
        references += [key for key in member.thread_keys if is_valid_message_id(key)]
        if is_valid_message_id(member.external_id):
            references.append(member.external_id)
    ours = session.scalars(
        select(Acknowledgement.provider_id)
        .where(
            Acknowledgement.item_id.in_([member.id for member in members]),
            Acknowledgement.channel == "email",
            Acknowledgement.status.in_(SENT),
        )
        .order_by(Acknowledgement.sent_at, Acknowledgement.id)
    )
    references += [provider_id for provider_id in ours if provider_id and is_valid_message_id(provider_id)]
    answering = next((m.external_id for m in reversed(emails) if is_valid_message_id(m.external_id)), None)
    return answering, list(dict.fromkeys(references))


def subject_with_reference(subject: str, reference: str | None) -> str:
    subject = " ".join(subject.split())[:MAX_SUBJECT]
    if reference and reference.lower() not in subject.lower():
        subject = f"[{reference}] {subject}"
    return subject


def plan_reply(
    runtime: Runtime,
    session: Session,
    item: Item,
    *,
    key: str,
    author: str,
    channel: str,
    subject: str | None,
    body: str,
    stage_response: bool = False,
    template_key: str | None = None,
) -> Reply:
    """Write the reply and its outbound row (pending); the caller's commit queues the send."""
    existing = session.scalars(select(Reply).where(Reply.key == key)).first()
    if existing is not None:
        return existing  # the same form sent twice: one reply
    root = session.get(Item, item.case_root_id) or item
    if root.case_status != "open":
        raise ReplyRefused("reply-body", "The case is closed: reopen it to reply")
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ReplyRefused("reply-body", "Enter the text of the reply")
    if len(body) > MAX_BODY:
        raise ReplyRefused("reply-body", f"Keep the reply under {MAX_BODY} characters")
    if stage_response and not {"respond", "holding_response"} & deadlines.open_kinds(root):
        raise ReplyRefused("stage-response", "Nothing on this case is waiting for a response: untick the box")
    found = recipients(runtime, session, root)
    in_reply_to: str | None = None
    references: list[str] = []
    if channel == "email":
        if found.email is None:
            raise ReplyRefused(
                "reply-channel", "No email address is known for this case: reply by text or phone"
            )
        recipient = found.email
        if not (subject or "").strip():
            raise ReplyRefused("reply-subject", "Enter a subject")
        subject = subject_with_reference(subject or "", root.reference)
        in_reply_to, references = thread_for(session, root)
    elif channel == "sms":
        if found.sms_refusal is not None or found.phone is None:
            raise ReplyRefused("reply-channel", found.sms_refusal or "No mobile number is known")
        recipient, subject = found.phone, None
        body = " ".join(body.split())  # a text is one paragraph; the template's line breaks are for email
        if sms_segments(body) > MAX_SMS_SEGMENTS:
            raise ReplyRefused(
                "reply-body",
                f"A text can be at most {MAX_SMS_SEGMENTS} messages long: this takes {sms_segments(body)}",
            )
    else:
        raise ReplyRefused("reply-channel", "Choose email or text message")
    now = runtime.clock.now()
    sent_today = (
        session.scalar(
            select(func.count(Acknowledgement.id)).where(
                Acknowledgement.recipient == recipient,
                Acknowledgement.purpose.like(f"{REPLY_PREFIX}%"),
                Acknowledgement.created_at >= now - timedelta(days=1),
            )
        )
        or 0
    )
    if sent_today >= MAX_REPLIES_PER_RECIPIENT_PER_DAY:
        raise ReplyRefused(
            "reply-body",
            f"{MAX_REPLIES_PER_RECIPIENT_PER_DAY} replies have gone to this address in 24 hours: "
            "phone the resident, or ask a manager",
        )
    reply = Reply(
        key=key,
        item_id=root.id,
        author=author,
        template_key=template_key,
        channel=channel,
        in_reply_to=in_reply_to,
        references=references,
        stage_response=stage_response,
        created_at=now,
    )
    session.add(reply)
    session.flush()
    letter = Acknowledgement(
        item_id=root.id,
        purpose=f"{REPLY_PREFIX}{reply.id}",
        channel=channel,
        recipient=recipient,
        subject=subject,
        body_text=body + ("\n" if channel == "email" else ""),
        body_html=None,
        status="pending",
        created_at=now,
    )
    session.add(letter)
    session.flush()
    reply.acknowledgement_id = letter.id
    audit.record(
        session,
        actor=author,
        action="reply_planned",
        item_id=root.id,
        reply_id=reply.id,
        acknowledgement_id=letter.id,
        channel=channel,
        template=template_key,
        stage_response=stage_response,
    )
    runtime.jobs.enqueue_acknowledgement(letter.id, session=session)
    return reply


def record_stage_responses(runtime: Runtime, *, reply_ids: list[int] | None = None) -> int:
    """Record the stage response for every sent reply marked as one and not yet recorded.

    Run after a reply is queued (it has usually gone by then) and from the periodic sweep (for one
    sent by a worker or on a retry). Dated when it was sent. Returns how many were recorded."""
    recorded = 0
    with runtime.database.session() as session:
        query = (
            select(Reply, Acknowledgement)
            .join(Acknowledgement, Acknowledgement.id == Reply.acknowledgement_id)
            .where(
                Reply.stage_response.is_(True),
                Reply.response_recorded_at.is_(None),
                Reply.response_note.is_(None),
                Acknowledgement.status.in_(SENT),
            )
        )
        if reply_ids is not None:
            query = query.where(Reply.id.in_(reply_ids))
        for reply, letter in session.execute(query.with_for_update(of=Reply)).all():
            root = session.get(Item, reply.item_id)
            assert root is not None
            try:
                cases.record_response(
                    runtime,
                    session,
                    root,
                    actor=reply.author,
                    summary=f"reply {reply.id} sent by {'text message' if reply.channel == 'sms' else 'email'}",
                    sent_at=letter.sent_at,
                )
            except InvalidTransition as refusal:  # closed (or merged) before the reply went
                reply.response_note = str(refusal)[:300]
                continue
            reply.response_recorded_at = runtime.clock.now()
            recorded += 1
    return recorded


@dataclass(frozen=True)
class Letter:
    """One message on the case's conversation: in from the resident, or out from us."""

    at: datetime
    outbound: bool
    channel: str
    title: str  # "Reply by Tina", "Acknowledgement: received", "Message from the resident"
    subject: str | None
    text: str
    status: str | None = None
    item_id: int | None = None


def conversation(session: Session, root: Item) -> list[Letter]:
    """Everything on the case in time order: the resident's messages and every letter we sent."""
    members = case_items(session, root.id)
    letters = [
        Letter(m.received_at, False, m.channel, "From the resident", m.subject, m.body, None, m.id)
        for m in members
    ]
    authors = {
        reply.acknowledgement_id: reply
        for reply in session.scalars(select(Reply).where(Reply.item_id == root.id))
    }
    for letter in session.scalars(
        select(Acknowledgement)
        .where(Acknowledgement.item_id.in_([m.id for m in members]))
        .order_by(Acknowledgement.id)
    ):
        reply = authors.get(letter.id)
        if reply is not None:
            title = f"Reply by {reply.author}" + (" (the stage response)" if reply.stage_response else "")
        else:
            title = f"Acknowledgement: {letter.purpose.replace('_', ' ')}"
        if not letter.body_text:
            continue  # nothing was written (suppressed, no contact details): it shows under What we sent
        letters.append(
            Letter(
                letter.sent_at or letter.created_at,
                True,
                letter.channel,
                title,
                letter.subject,
                letter.body_text,
                letter.status,
                letter.item_id,
            )
        )
    return sorted(letters, key=lambda letter: letter.at)
