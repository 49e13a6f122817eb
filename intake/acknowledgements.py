"""Acknowledgements: decide whether, where and what to send, then send it once.

`plan_acknowledgement` (`plan_acknowledgements` for a batch) runs inside the item's processing transaction and writes one row per
(item, purpose) — the unique constraint is what makes "never acknowledged twice" hold when a job is
retried. `send_acknowledgement` moves a row pending → sending → sent. A row found still `sending`
after a crash is NOT re-sent (the provider may have accepted it): the sweep marks it `unknown` for a
person to check, because a duplicate to a resident is worse than a prompt to look. The same holds
when the provider took the message but its answer was lost (a read timeout, a connection dropped
after the data went over): `UncertainSendError` marks it `unknown` at once instead of retrying.

The wording is rendered once, when planned, and stored with a digest of what it was rendered from
(`rendered_for`); the sender recomputes the digest and renders again only when it differs — a date
moved, a date passed since, the item was corrected — so the letter is right on the day it goes.
A batch's provider calls overlap (a small pool of threads per worker process): each is a round
trip to the provider, and one after another they, not the CPU, bounded a worker's sending rate.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    inspect,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, selectinload

from channels.base import (
    OutboundAcknowledgement,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    UncertainSendError,
)
from channels.phone import can_receive_sms, looks_like_phone, normalise_phone
from intake import audit, deadlines
from intake.queueing import SEND_BACKOFF_SECONDS
from intake.runtime import Runtime
from models import Acknowledgement, Contact, Deadline, Item, Reply, SmsOptOut
from triage_rules.acknowledgement_wording import RenderedAcknowledgement, render_acknowledgement

log = logging.getLogger(__name__)

# One retry scheme for a send: the job queue's Retry and the row's next attempt read the same table.
RETRY_BACKOFF_SECONDS = SEND_BACKOFF_SECONDS
MAX_SEND_ATTEMPTS = len(RETRY_BACKOFF_SECONDS) + 1
# Letters that acknowledge the case (and so meet its acknowledge deadline); others tell of a change.
ACKNOWLEDGING = ("received", "complaint")
# Twilio error codes meaning "this number cannot take texts from us": fall back, don't retry.
SMS_UNREACHABLE_CODES = {"21610", "21614", "21211", "21408", "21612"}


def plan_acknowledgement(
    runtime: Runtime, session: Session, item: Item, *, purpose: str, extension_reason: str | None = None
) -> Acknowledgement:
    """Create the acknowledgement row for (item, purpose) unless one exists; return it.

    `purpose` is received, complaint, stage_N (escalated) or extension_N (the response date moved).
    """
    return plan_acknowledgements(runtime, session, [item], purpose=purpose, extension_reason=extension_reason)[0]


def plan_acknowledgements(
    runtime: Runtime,
    session: Session,
    items: Sequence[Item],
    *,
    purpose: str,
    extension_reason: str | None = None,
) -> list[Acknowledgement]:
    """`plan_acknowledgement` for each of a batch's items, in order, with the outcome planning them
    one after another would have — an item counts the rows planned for the items before it towards
    its sender's daily limit — in a few queries a batch (the existing rows; the contacts; every
    recipient's opt-out and 24-hour count) and one flush, not three queries and a flush an item."""
    if not items:
        return []
    ids = list({item.id for item in items})
    rows = {
        row.item_id: row
        for row in session.scalars(
            # The purpose as an expression (purpose || ''), so the look-up goes by item: offered the
            # (purpose, created_at) index without statistics, PostgreSQL read every 'received' row
            # for a batch's 32 items (6 ms at 3,000 items, growing; see pipeline._received_by_id).
            select(Acknowledgement).where(
                Acknowledgement.item_id.in_(ids), Acknowledgement.purpose.concat("") == purpose
            )
        )
    }
    contacts: dict[int, tuple[str | None, str | None]] = {
        item.contact.id: (item.contact.email, item.contact.phone)
        for item in items
        if "contact" not in inspect(item).unloaded and item.contact is not None  # a worker's batch loads them
    }
    contact_ids = list(
        {item.contact_id for item in items if item.contact_id not in (None, *contacts) and item.id not in rows}
    )
    if contact_ids:
        found = session.execute(select(Contact.id, Contact.email, Contact.phone).where(Contact.id.in_(contact_ids)))
        contacts.update({contact_id: (email, phone) for contact_id, email, phone in found})
    addresses = {
        item.id: _addresses(item, *contacts.get(item.contact_id or 0, (None, None)))
        for item in items
        if item.id not in rows
    }
    states = _RecipientStates.load(runtime, session, addresses.values())
    planned: list[Acknowledgement] = []
    for item in items:
        if item.id in rows:
            continue
        channel, recipient, why_not = _route(runtime, states, item, *addresses[item.id])
        # Every column that any row of the batch sets is set on all of them, so they go as one INSERT.
        acknowledgement = Acknowledgement(
            item_id=item.id, purpose=purpose, channel=channel, recipient=recipient, last_error=None,
            subject=None, body_text="", body_html=None, rendered_for=None,
        )
        if extension_reason:
            item.details = {**item.details, f"{purpose}_reason": extension_reason}
        if why_not is not None:
            acknowledgement.status = "needs_callback" if why_not.startswith("call back") else "suppressed"
            acknowledgement.last_error = why_not
        else:
            _store_rendering(
                acknowledgement,
                *_render(runtime, item, channel=channel, purpose=purpose, extension_reason=extension_reason),
            )
            acknowledgement.status = "pending"
            if recipient is not None:  # counted by the next item to the same recipient, as once flushed
                states.sent_today[recipient] = states.sent_today.get(recipient, 0) + 1
        rows[item.id] = acknowledgement
        planned.append(acknowledgement)
    session.add_all(planned)
    session.flush()
    for acknowledgement in planned:
        audit.record(
            session,
            actor="worker",
            action="acknowledgement_planned",
            item_id=acknowledgement.item_id,
            purpose=purpose,
            channel=acknowledgement.channel,
            status=acknowledgement.status,
            reason=acknowledgement.last_error if acknowledgement.status != "pending" else None,
        )
    return [rows[item.id] for item in items]


def plan_help_reply(runtime: Runtime, session: Session, item: Item) -> Acknowledgement:
    """The reply to a HELP text: sent even though the text itself is not triaged."""
    reply = Acknowledgement(
        item_id=item.id,
        purpose="help",
        channel="sms",
        recipient=item.sender_address,
        body_text=runtime.settings.sms_help_text,
        status="pending",
    )
    session.add(reply)
    session.flush()
    return reply


def record_delivery_status(
    runtime: Runtime, *, provider_id: str, status: str, error_code: str | None = None
) -> bool:
    """A provider's delivery report (Twilio status callback). False when the id is unknown."""
    terminal = {"delivered": "delivered", "failed": "failed", "undelivered": "undelivered"}
    with runtime.database.session() as session:
        acknowledgement = session.scalars(
            select(Acknowledgement).where(Acknowledgement.provider_id == provider_id).with_for_update()
        ).first()
        if acknowledgement is None:
            return False
        if status in terminal:
            acknowledgement.status = terminal[status]
            if error_code:
                acknowledgement.last_error = f"provider error {error_code}"
        audit.record(
            session,
            actor="provider",
            action="delivery_status",
            item_id=acknowledgement.item_id,
            acknowledgement_id=acknowledgement.id,
            status=status,
            error_code=error_code,
        )
        if (
            status in ("failed", "undelivered")
            and error_code in SMS_UNREACHABLE_CODES
            and acknowledgement.purpose == "received"
        ):
            _fall_back_from_sms(runtime, session, acknowledgement, error_code)
        fallback_pending = acknowledgement.status == "pending"
    if fallback_pending:  # the email fallback goes now, not at the next sweep
        runtime.jobs.enqueue_acknowledgement(acknowledgement.id)
    return True


def _addresses(item: Item, contact_email: str | None, contact_phone: str | None) -> tuple[str | None, str | None]:
    """(email, phone) an acknowledgement of `item` may go to: the contact's, else the sender's."""
    email = contact_email or _email_of(item.sender_address)
    phone = contact_phone or (
        normalise_phone(item.sender_address) if looks_like_phone(item.sender_address) else None
    )
    return email, phone


# Statuses that count towards the daily per-sender limit: planned, going, or gone.
_COUNTED = ("pending", "sending", "sent", "delivered", "retry")


@dataclass
class _RecipientStates:
    """For a batch's recipients: the numbers that sent STOP, and acknowledgements in the last 24 hours."""

    opted_out: set[str] = field(default_factory=set)
    sent_today: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(
        cls, runtime: Runtime, session: Session, addresses: Iterable[tuple[str | None, str | None]]
    ) -> _RecipientStates:
        """One query, grouped: each number's opt-out and each address's count."""
        states = cls()
        pairs = list(addresses)
        phones = sorted({phone for _, phone in pairs if phone})
        recipients = sorted({*phones, *(email for email, _ in pairs if email)})
        if not recipients:
            return states
        since = runtime.clock.now() - timedelta(days=1)
        counts = (
            select(literal("count"), Acknowledgement.recipient, func.count(Acknowledgement.id))
            .where(
                Acknowledgement.recipient.in_(recipients),
                Acknowledgement.created_at >= since,
                Acknowledgement.status.in_(_COUNTED),
            )
            .group_by(Acknowledgement.recipient)
        )
        statement = counts
        if phones:
            opt_outs = select(
                literal("opted_out"), SmsOptOut.phone, case((SmsOptOut.opted_out, 1), else_=0)
            ).where(SmsOptOut.phone.in_(phones))
            statement = union_all(counts, opt_outs)  # type: ignore[assignment]
        for kind, recipient, value in session.execute(statement):
            if recipient is None:
                continue
            if kind == "count":
                states.sent_today[recipient] = value
            elif value:
                states.opted_out.add(recipient)
        return states


def _route(
    runtime: Runtime, states: _RecipientStates, item: Item, email: str | None, phone: str | None
) -> tuple[str, str | None, str | None]:
    """(channel, recipient, reason not to send or None)."""
    if item.suppress_acknowledgement_reason:
        return "none", None, item.suppress_acknowledgement_reason
    preferred = item.details.get("ack_channel") or ("email" if item.channel == "email" else "sms")
    if item.channel == "web_form" and not item.details.get("ack_channel"):
        preferred = "email" if email else "sms"

    own = {address.lower() for address in runtime.settings.landlord_addresses}
    if email and email.lower() in own:
        return "none", email, "sender is one of the landlord's own addresses"

    sent_today = states.sent_today
    if preferred == "sms":
        opted_out = phone in states.opted_out
        if phone and can_receive_sms(phone) and not opted_out:
            return _rate_limited(runtime, "sms", phone, sent_today.get(phone, 0))
        if email:
            return _rate_limited(runtime, "email", email, sent_today.get(email, 0))
        if phone and opted_out:
            return "none", phone, "number has opted out of texts (STOP) and no email is known"
        if phone:
            return "none", phone, "call back: the number cannot receive texts and no email is known"
        return "none", None, "no contact details to acknowledge"
    if email:
        return _rate_limited(runtime, "email", email, sent_today.get(email, 0))
    if phone and can_receive_sms(phone) and phone not in states.opted_out:
        return _rate_limited(runtime, "sms", phone, sent_today.get(phone, 0))
    return "none", None, "no contact details to acknowledge"


def _rate_limited(runtime: Runtime, channel: str, recipient: str, sent_today: int) -> tuple[str, str, str | None]:
    limit = runtime.settings.max_acknowledgements_per_sender_per_day
    if sent_today >= limit:
        return channel, recipient, f"more than {limit} acknowledgements to this sender in 24 hours"
    return channel, recipient, None


def _email_of(address: str | None) -> str | None:
    return address.strip().lower() if address and "@" in address else None


def _render(
    runtime: Runtime, item: Item, *, channel: str, purpose: str, extension_reason: str | None = None
) -> tuple[RenderedAcknowledgement, str]:
    """The wording, and the digest of what it was rendered from (see `_rendered_for`)."""
    inputs = _render_inputs(runtime, item, channel=channel, purpose=purpose, extension_reason=extension_reason)
    return render_acknowledgement(**inputs), _rendered_for(inputs)


def _store_rendering(acknowledgement: Acknowledgement, rendered: RenderedAcknowledgement, digest: str) -> None:
    acknowledgement.subject = rendered.subject or None
    acknowledgement.body_text = rendered.text
    acknowledgement.body_html = rendered.html
    acknowledgement.rendered_for = digest


def _render_inputs(
    runtime: Runtime, item: Item, *, channel: str, purpose: str, extension_reason: str | None = None
) -> dict[str, Any]:
    """The arguments of `render_acknowledgement` for this item now."""
    # An item held for review has no confirmed type: acknowledge receipt without promising a route.
    item_type = item.type if item.queue != "triage_review" or purpose != "received" else None
    if "urgent_safety" in item.flags:
        item_type = item.type
    return dict(
        channel=channel,
        item_type=item_type,
        reference=item.reference or "",
        flags=item.flags,
        deadlines=deadlines.as_computed(d for d in deadlines.current(item) if d.met_at is None),
        policy=runtime.policy,
        recipient_name=item.sender_name,
        purpose=purpose,
        stage=item.complaint_stage,
        original_subject=item.subject,
        now=runtime.clock.now(),
        received_at=item.received_at,
        extension_reason=extension_reason or item.details.get(f"{purpose}_reason"),
    )


def _rendered_for(inputs: dict[str, Any]) -> str:
    """A digest of everything the wording depends on. Time enters only as which dates have passed
    (a passed date is never promised: the letter says so instead), so the digest of a stored
    wording changes exactly when rendering it again would say something else."""
    now: datetime = inputs["now"]
    policy = inputs["policy"]
    facts = [
        inputs["channel"],
        inputs["item_type"],
        inputs["reference"],
        sorted(inputs["flags"]),
        [(d.kind, d.stage, d.due_at.isoformat(), d.due_at < now) for d in inputs["deadlines"]],
        [policy.name, policy.landlord_name, policy.short_name, repr(policy.contact)],
        inputs["recipient_name"],
        inputs["purpose"],
        inputs["stage"],
        inputs["received_at"].isoformat() if inputs["received_at"] else None,
        inputs["extension_reason"],
    ]
    return hashlib.sha256(json.dumps(facts, default=str).encode("utf-8")).hexdigest()


def send_acknowledgement(runtime: Runtime, acknowledgement_id: int) -> None:
    """Send one planned acknowledgement. Raises TemporarySendError so the job queue retries it."""
    failed = send_acknowledgements(runtime, [acknowledgement_id]).failed
    if failed:
        raise failed[acknowledgement_id]


# On SQLite, acknowledgements sent per write transaction (see send_acknowledgements).
SQLITE_PER_TRANSACTION = 8
# A batch's items and their deadlines in two queries, not two lazy loads per acknowledgement.
_WITH_ITEM = selectinload(Acknowledgement.item).selectinload(Item.deadlines)


# {acknowledgement id: (channel, the message as it would go)}: see `ready_to_send`.
ReadyToSend = dict[int, tuple[str, OutboundAcknowledgement]]


@dataclass
class SentBatch:
    taken: list[int] = field(default_factory=list)  # of `also`: the ones this batch dealt with
    failed: dict[int, Exception] = field(default_factory=dict)  # temporary failures, to retry
    # Of the worker's own (with `also` only): held by another worker's batch, so not waited for;
    # the caller sends them (finds them sent) once it has dropped the jobs of `taken`.
    held: list[int] = field(default_factory=list)


# Acknowledgements sent together: `also` may be longer (a worker looks a few batches down its queue).
SEND_BATCH_SIZE = 32


def send_acknowledgements(
    runtime: Runtime,
    acknowledgement_ids: Sequence[int],
    *,
    also: Sequence[int] = (),
    ready: ReadyToSend | None = None,
) -> SentBatch:
    """Send a worker's batch of planned acknowledgements: one transaction marks them all `sending`,
    each goes to its provider, one transaction records every one that went.

    `acknowledgement_ids` are this worker's (it holds their jobs); `also` are taken along only when
    no one else holds their rows (SKIP LOCKED: another worker is sending them). Temporary failures
    come back in `failed` (their rows already say `retry` and when) for the job queue to retry;
    every other outcome is recorded on the row. `ready`: messages of `also` built by
    `ready_to_send` in the transaction that planned them, which are not read back.
    """
    if runtime.database.engine.dialect.name == "sqlite" and len(acknowledgement_ids) + len(also) > SQLITE_PER_TRANSACTION:
        # SQLite has one writer: a webhook waits for each of these transactions, so they stay short.
        ids = list(dict.fromkeys([*acknowledgement_ids, *also]))
        own = set(acknowledgement_ids)
        taken = _Taken()
        for start in range(0, len(ids), SQLITE_PER_TRANSACTION):
            chunk = ids[start : start + SQLITE_PER_TRANSACTION]
            taken.add(_take_for_sending(runtime, [i for i in chunk if i in own], [i for i in chunk if i not in own], ready))
        # Only the transactions are kept short: the texts go to their providers together, as on
        # PostgreSQL. Sent eight at a time, a batch waited for four round trips to Twilio, not two.
        _deliver(runtime, taken, record_per_transaction=SQLITE_PER_TRANSACTION)
        return taken.batch
    return _send_batch(runtime, acknowledgement_ids, also, ready)


def send_planned(runtime: Runtime, acknowledgement_ids: Sequence[int], ready: ReadyToSend) -> None:
    """Send a just-committed batch's planned letters at once, from the worker that planned them;
    only those not dealt with here get a job (a temporary failure's row already says `retry` and
    when, and its job finds it not yet due). A job for each, claimed and read back later, cost a
    tenth of a worker's CPU (issue 14). Should this process die before the jobs are queued, the
    sweep queues what is still pending."""
    left = list(acknowledgement_ids)
    try:
        if acknowledgement_ids:
            sent = send_acknowledgements(runtime, [], also=acknowledgement_ids, ready=ready)
            left = [ack for ack in acknowledgement_ids if ack not in sent.taken or ack in sent.failed]
    finally:
        for acknowledgement_id in left:
            runtime.jobs.enqueue_acknowledgement(acknowledgement_id)


@dataclass
class _Taken:
    """Acknowledgements marked `sending` (committed), to hand to their providers."""

    batch: SentBatch = field(default_factory=SentBatch)
    outgoing: list[tuple[str, OutboundAcknowledgement]] = field(default_factory=list)
    going: dict[int, _Going] = field(default_factory=dict)  # what recording each as sent needs

    def add(self, other: _Taken) -> None:
        self.batch.taken += other.batch.taken
        self.batch.held += other.batch.held
        self.outgoing += other.outgoing
        self.going.update(other.going)


def _send_batch(
    runtime: Runtime,
    acknowledgement_ids: Sequence[int],
    also: Sequence[int],
    ready: ReadyToSend | None = None,
) -> SentBatch:
    taken = _take_for_sending(runtime, acknowledgement_ids, also, ready)
    _deliver(runtime, taken)
    return taken.batch


def _take_for_sending(
    runtime: Runtime,
    acknowledgement_ids: Sequence[int],
    also: Sequence[int],
    ready: ReadyToSend | None = None,
) -> _Taken:
    """One transaction: the batch's rows that are to go now, marked `sending` and committed."""
    batch = SentBatch()
    ready = ready or {}
    with runtime.database.session() as session:
        # With `also` (several workers on one queue) our own rows are not waited for when another
        # worker's batch holds them: this batch goes first, and they are waited for after it.
        # A worker's batch has none of its own (intake/jobs.py sends the processed batch's as `also`).
        rows = list(
            session.scalars(
                select(Acknowledgement)
                .where(Acknowledgement.id.in_(list(acknowledgement_ids)))
                .order_by(Acknowledgement.id)
                .options(_WITH_ITEM)
                .with_for_update(skip_locked=bool(also))
            )
        ) if acknowledgement_ids else []
        if also:
            batch.held = sorted(set(acknowledgement_ids) - {row.id for row in rows})
        room = max(SEND_BATCH_SIZE - len(acknowledgement_ids), 0)
        extra = [ack_id for ack_id in also if ack_id not in set(acknowledgement_ids)]
        now = runtime.clock.now()
        outgoing: list[tuple[str, OutboundAcknowledgement]] = []
        going: dict[int, _Going] = {}  # what recording each one as sent needs, read while they are ours
        built = [ack_id for ack_id in extra if ack_id in ready][:room]
        if built:
            going.update(_mark_sending(session, built, now))
            batch.taken += sorted(going)
            outgoing += [(ready[ack_id][0], replace(ready[ack_id][1], written_at=now)) for ack_id in sorted(going)]
            room -= len(built)
        extra = [ack_id for ack_id in extra if ack_id not in ready]
        if extra and room:
            taken = list(
                session.scalars(
                    select(Acknowledgement)
                    # The status as an expression (status || ''): the primary key is then the only
                    # index the planner can use (see pipeline._received_by_id).
                    .where(Acknowledgement.id.in_(extra), Acknowledgement.status.concat("").in_(("pending", "retry")))
                    .order_by(Acknowledgement.id)
                    .limit(room)
                    .options(_WITH_ITEM)
                    .with_for_update(skip_locked=True)
                )
            )
            batch.taken += [row.id for row in taken]
            rows += taken
        for row in rows:
            started = _start_sending(runtime, session, row, now)
            if started is not None:
                outgoing.append(started)
                going[row.id] = _Going(row.item_id, row.purpose, row.channel)
    return _Taken(batch, outgoing, going)


def _deliver(runtime: Runtime, taken: _Taken, *, record_per_transaction: int | None = None) -> None:
    """Each taken acknowledgement to its provider, and every outcome recorded on its row; the sent
    ones in one transaction (or `record_per_transaction` at a time). Temporary failures go in
    `taken.batch.failed`."""
    # Committed as `sending` before any provider is called: a crash from here on is never re-sent blindly.
    sent: dict[int, SendResult] = {}
    failed = taken.batch.failed
    going = taken.going
    for outbound, outcome in _call_providers(runtime, taken.outgoing):
        acknowledgement_id = outbound.acknowledgement_id
        try:
            if isinstance(outcome, Exception):
                raise outcome
            sent[acknowledgement_id] = outcome
        except TemporarySendError as error:
            _record_failure(runtime, acknowledgement_id, str(error), temporary=True)
            failed[acknowledgement_id] = error
        except UncertainSendError as error:  # it may have gone: never sent again blindly
            _record_unknown(runtime, acknowledgement_id, str(error))
        except PermanentSendError as error:
            status = _record_failure(runtime, acknowledgement_id, str(error), temporary=False, code=error.code)
            if status == "pending":  # fell back to email: send that now, not at the next sweep
                runtime.jobs.enqueue_acknowledgement(acknowledgement_id)
        except Exception as error:  # an unknown failure: treat as temporary, keep the details
            _record_failure(runtime, acknowledgement_id, f"{type(error).__name__}: {error}", temporary=True)
            failed[acknowledgement_id] = error
    recorded = [(ack_id, (going[ack_id], result)) for ack_id, result in sent.items()]
    step = record_per_transaction or len(recorded) or 1
    for first in range(0, len(recorded), step):
        _record_sent(runtime, dict(recorded[first : first + step]))


# The sending threads of this process. A sender that may be called from several threads at once
# says how many (`concurrent_sends`: Twilio's, INTAKE_TWILIO_CONCURRENT_SENDS); a batch's texts are
# then in flight together, since each is a round trip over the internet and the worker waits for
# its batch's before the next batch (py-spy, docs/benchmarks.md, ninth and eleventh sessions).
_pools: dict[int, ThreadPoolExecutor] = {}  # by size; one size in a process unless tests vary it
_pools_pid = 0
_pools_lock = threading.Lock()


def _send_pool(size: int) -> ThreadPoolExecutor:
    """This process's `size` sending threads (made afresh in a forked child: threads do not survive
    a fork). A pool of another size is left as it is: another thread may be handing it a batch."""
    global _pools_pid
    with _pools_lock:
        if _pools_pid != os.getpid():
            _pools.clear()
            _pools_pid = os.getpid()
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="acknowledgement-send")
        return pool


def _concurrent_sends(sender: object) -> int:
    """How many threads may call this sender at once (1: only one after another, as SMTP)."""
    return int(getattr(sender, "concurrent_sends", 1) or 1)


def _call_providers(
    runtime: Runtime, outgoing: Sequence[tuple[str, OutboundAcknowledgement]]
) -> list[tuple[OutboundAcknowledgement, SendResult | Exception]]:
    """Each acknowledgement handed to its channel's sender: what it answered, or what it raised.

    Senders that say they may be called from several threads at once (`concurrent_sends`, the
    Twilio client) are called together; the others (SMTP) one after another, in this thread, inside
    the sender's `batch()` when it has one (SMTP: one connection for the batch, not one a message).
    """
    senders = {channel: runtime.sender(channel) for channel in {channel for channel, _ in outgoing}}

    def call(channel: str, outbound: OutboundAcknowledgement) -> SendResult | Exception:
        try:
            return senders[channel].send(outbound)
        except Exception as error:  # handed back to the caller, which records every outcome
            return error

    together = [
        pair for pair in outgoing if len(outgoing) > 1 and _concurrent_sends(senders[pair[0]]) > 1
    ]
    futures: dict[int, Future[SendResult | Exception]] = {}
    if together:
        pool = _send_pool(max(_concurrent_sends(senders[channel]) for channel, _ in together))
        futures = {outbound.acknowledgement_id: pool.submit(call, channel, outbound) for channel, outbound in together}
    outcomes = []
    with contextlib.ExitStack() as batches:
        if len(outgoing) - len(together) > 1:
            for sender in senders.values():
                batch = getattr(sender, "batch", None)
                if batch is not None and _concurrent_sends(sender) == 1:
                    batches.enter_context(batch())
        for channel, outbound in outgoing:
            future = futures.get(outbound.acknowledgement_id)
            outcomes.append((outbound, future.result() if future is not None else call(channel, outbound)))
    return outcomes


class _Going(NamedTuple):
    """An acknowledgement on its way, as recording it sent needs it."""

    item_id: int
    purpose: str
    channel: str


def _mark_sending(session: Session, acknowledgement_ids: Sequence[int], now: datetime) -> dict[int, _Going]:
    """pending → sending, in one UPDATE, for those of these rows still pending that no other worker
    holds (SKIP LOCKED, as `_send_batch` takes rows along)."""
    free = (
        select(Acknowledgement.id)
        .where(Acknowledgement.id.in_(list(acknowledgement_ids)), Acknowledgement.status.concat("") == "pending")
        .with_for_update(skip_locked=True)
    )
    marked = session.execute(
        update(Acknowledgement)
        .where(Acknowledgement.id.in_(free))
        .values(status="sending", sending_started_at=now, attempts=Acknowledgement.attempts + 1)
        .returning(Acknowledgement.id, Acknowledgement.item_id, Acknowledgement.purpose, Acknowledgement.channel)
        .execution_options(synchronize_session=False)
    )
    return {row.id: _Going(row.item_id, row.purpose, row.channel) for row in marked}


def _start_sending(
    runtime: Runtime, session: Session, acknowledgement: Acknowledgement, now: datetime
) -> tuple[str, OutboundAcknowledgement] | None:
    """pending/retry → sending (rendered again as it goes), or None when it is not to be sent now."""
    if acknowledgement.status not in ("pending", "retry"):
        return None
    if acknowledgement.next_attempt_at and acknowledgement.next_attempt_at > now + timedelta(seconds=1):
        return None
    acknowledgement.status = "sending"
    acknowledgement.sending_started_at = now
    acknowledgement.attempts += 1
    return acknowledgement.channel, _as_sent(runtime, session, acknowledgement, now)


def _as_sent(
    runtime: Runtime, session: Session, acknowledgement: Acknowledgement, now: datetime
) -> OutboundAcknowledgement:
    """The message as it goes now: its wording rendered again if what it says has changed."""
    item = acknowledgement.item
    # A reply an officer wrote (intake/replies.py) goes as written, threaded as its row says.
    reply = (
        session.scalars(select(Reply).where(Reply.acknowledgement_id == acknowledgement.id)).first()
        if acknowledgement.purpose.startswith("reply_")
        else None
    )
    if acknowledgement.channel in ("email", "sms") and acknowledgement.purpose != "help" and reply is None:
        # Its dates must be the case's dates at the moment it is sent: rendered again if they (or
        # anything else it says) changed since it was planned, which the digest tells without rendering.
        inputs = _render_inputs(runtime, item, channel=acknowledgement.channel, purpose=acknowledgement.purpose)
        digest = _rendered_for(inputs)
        if digest != acknowledgement.rendered_for:
            _store_rendering(acknowledgement, render_acknowledgement(**inputs), digest)
    return OutboundAcknowledgement(
        acknowledgement_id=acknowledgement.id,
        reference=item.reference or "",
        recipient=acknowledgement.recipient or "",
        subject=acknowledgement.subject,
        body_text=acknowledgement.body_text,
        written_at=now,
        body_html=acknowledgement.body_html,
        in_reply_to=reply.in_reply_to if reply else item.external_id if item.channel == "email" else None,
        references=tuple(reply.references) if reply
        else tuple([*item.thread_keys, item.external_id]) if item.channel == "email" else (),
        automatic=reply is None,
    )


def ready_to_send(runtime: Runtime, session: Session, acknowledgements: Iterable[Acknowledgement]) -> ReadyToSend:
    """{id: (channel, message)} for the new `pending` rows among these, built in the transaction
    that planned them, at its end (a later item of a batch may have moved a case's dates: the
    wording is checked again here, as at sending).

    The worker that planned them sends them the moment that transaction commits
    (`send_acknowledgements(ready=...)`): it then marks them `sending` with one UPDATE instead of
    reading back every row, its item and its deadlines, which with the rest of the marking
    transaction cost about a tenth of a worker's CPU (py-spy at 150 texts a second, issue 14).
    """
    now = runtime.clock.now()
    return {
        acknowledgement.id: (acknowledgement.channel, _as_sent(runtime, session, acknowledgement, now))
        for acknowledgement in acknowledgements
        if acknowledgement.status == "pending"
        and acknowledgement.attempts == 0
        and not acknowledgement.purpose.startswith("reply_")
    }


def _record_sent(runtime: Runtime, sent: dict[int, tuple[_Going, SendResult]]) -> None:
    """A batch's acknowledgements that went, in one transaction: each row says so (one UPDATE for
    the batch, the rows not read back), the audit log records each, and a letter that acknowledges
    meets its case's acknowledge deadline, from which an open complaint's response dates count."""
    now = runtime.clock.now()
    with runtime.database.session() as session:
        session.execute(
            update(Acknowledgement),
            [
                {
                    "id": acknowledgement_id, "status": result.status if result.status != "queued" else "sent",
                    "provider_id": result.provider_id, "sent_at": now, "last_error": None, "next_attempt_at": None,
                }
                for acknowledgement_id, (_, result) in sent.items()
            ],
        )
        acknowledging = {going.item_id for going, _ in sent.values() if _acknowledges(going.purpose)}
        items = {
            item.id: item
            for item in session.scalars(
                select(Item).where(_with_dates_to_keep(acknowledging)).options(selectinload(Item.deadlines))
            )
        } if acknowledging else {}
        for acknowledgement_id, (going, result) in sent.items():
            audit.record(
                session,
                actor="worker",
                action="acknowledgement_sent",
                item_id=going.item_id,
                acknowledgement_id=acknowledgement_id,
                channel=going.channel,
                provider_id=result.provider_id,
            )
            if going.item_id in items and _acknowledges(going.purpose):
                # Marking refreshes the case's next due date from what is still open.
                deadlines.mark_met(items[going.item_id], "acknowledgement_sent", at=now)
        # Flushed here, the deadlines the batch met go in one executemany. Flushed together with
        # the dates recomputed below, each deadline both met and superseded broke the ORM's run
        # of like UPDATEs, and the batch sent one UPDATE a deadline (0.6 a text, issue 14).
        session.flush()
        for item in items.values():
            # Stage responses count from the acknowledgement: now that it is sent, an open
            # complaint's dates are computed again from it.
            if item.case_id is None and item.case_status == "open" and item.complaint_stage:
                deadlines.recompute(runtime, session, item)


def _with_dates_to_keep(item_ids: set[int]) -> ColumnElement[bool]:
    """Those of these items whose dates sending can change: with deadlines in force (one may be met)
    or an open complaint (its dates are computed again). The others, most texts (a service request,
    an enquiry, a compliment), have no date to meet and no next due date (`refresh_next_due`, its one
    writer, keeps it None without deadlines); loading them whole with their deadlines cost about
    1 % of a worker's CPU (issue 14)."""
    in_force = exists().where(Deadline.item_id == Item.id, Deadline.superseded_at.is_(None))
    open_complaint = and_(Item.case_id.is_(None), Item.case_status == "open", Item.complaint_stage.is_not(None))
    return and_(Item.id.in_(sorted(item_ids)), or_(in_force, open_complaint))


def _acknowledges(purpose: str) -> bool:
    return purpose in ACKNOWLEDGING or purpose.startswith("stage_")


def _record_unknown(runtime: Runtime, acknowledgement_id: int, error: str) -> None:
    """The provider may have sent it: as after a crash mid-send, a person checks before it goes again."""
    with runtime.database.session() as session:
        acknowledgement = session.get(Acknowledgement, acknowledgement_id)
        assert acknowledgement is not None
        acknowledgement.status = "unknown"
        acknowledgement.last_error = f"{error[:1800]}: it may have been sent, check before sending again"
        acknowledgement.next_attempt_at = None
        audit.record(
            session,
            actor="worker",
            action="acknowledgement_unknown",
            item_id=acknowledgement.item_id,
            acknowledgement_id=acknowledgement.id,
            attempts=acknowledgement.attempts,
        )


def _record_failure(
    runtime: Runtime, acknowledgement_id: int, error: str, *, temporary: bool, code: str | None = None
) -> str:
    """Record a failed attempt; returns the acknowledgement's new status."""
    with runtime.database.session() as session:
        acknowledgement = session.get(Acknowledgement, acknowledgement_id)
        assert acknowledgement is not None
        acknowledgement.last_error = error[:2000]
        if temporary and acknowledgement.attempts < MAX_SEND_ATTEMPTS:
            delay = RETRY_BACKOFF_SECONDS[min(acknowledgement.attempts - 1, len(RETRY_BACKOFF_SECONDS) - 1)]
            acknowledgement.status = "retry"
            acknowledgement.next_attempt_at = runtime.clock.now() + timedelta(seconds=delay)
        elif (
            acknowledgement.channel == "sms"
            and code in SMS_UNREACHABLE_CODES
            and acknowledgement.purpose == "received"
        ):
            _fall_back_from_sms(runtime, session, acknowledgement, code)
        else:
            acknowledgement.status = "failed"
        audit.record(
            session,
            actor="worker",
            action="acknowledgement_failed",
            item_id=acknowledgement.item_id,
            acknowledgement_id=acknowledgement.id,
            temporary=temporary,
            code=code,
            status=acknowledgement.status,
            attempts=acknowledgement.attempts,
        )
        return acknowledgement.status


def _fall_back_from_sms(
    runtime: Runtime, session: Session, acknowledgement: Acknowledgement, code: str | None
) -> None:
    """The number can't take texts (landline, unsubscribed): email if we can, else a call back."""
    item = acknowledgement.item
    if code == "21610" and acknowledgement.recipient:
        existing = session.get(SmsOptOut, acknowledgement.recipient)
        if existing is None:
            session.add(SmsOptOut(phone=acknowledgement.recipient, opted_out=True, keyword="provider-21610"))
    contact = session.get(Contact, item.contact_id) if item.contact_id else None
    if contact and contact.email:
        acknowledgement.channel = "email"
        acknowledgement.recipient = contact.email
        _store_rendering(acknowledgement, *_render(runtime, item, channel="email", purpose=acknowledgement.purpose))
        acknowledgement.status = "pending"
        acknowledgement.next_attempt_at = None
    else:
        acknowledgement.status = "needs_callback"
        acknowledgement.last_error = f"call back: SMS refused by the provider ({code}) and no email is known"
