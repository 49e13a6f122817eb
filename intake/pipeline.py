"""The one path every message takes: ingest → store → process_item: classify → link → route →
deadlines → plan acknowledgement → record. Orchestration lives here and only here; channels and route
handlers call it. Each step is decided in one module: the classifier, `intake.cases` (link),
`intake.routing`, `intake.deadlines`, `intake.acknowledgements`.

Guarantees, enforced by the database rather than by code alone:
- one item per (channel, external_id) — a unique constraint; a replay returns the existing item;
- one acknowledgement per (item, purpose) — a unique constraint; a retried job finds the row;
- processing is one transaction: a worker killed half-way leaves the item `received`, and the
  job's retry (or the sweep) processes it from the start.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Callable, Container, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from channels.message import InboundMessage
from classifier.encoding import MessageInput, encode
from intake import audit, cases, deadlines, ingest_postgres, ingest_sqlite
from intake.acknowledgements import ReadyToSend, plan_acknowledgements, ready_to_send
from intake.batches import BATCH_SIZE
from intake.bulk_insert import insert_returning_ids, plain_insert
from intake.clock import SYSTEM_CLOCK, Clock
from intake.contacts import (
    Sender,
    contact_lookups,
    find_or_create_contact,
    find_or_create_contact_ids,
    plan_contacts,
)
from intake.control_messages import handle_without_triage as _handle_without_triage
from intake.errors import InvalidMessage
from intake.group_rows import GroupRows, Look
from intake.queueing import DatabaseQueue
from intake.references import make_reference
from intake.routing import decide, route_new_item
from intake.runtime import Runtime
from models import Attachment, ClassificationRun, Contact, Deadline, Item, RawMessage
from models.report_facts import mark_items
from triage_rules.rules import flags_from, hazards_from
from triage_rules.taxonomy import CHANNELS, REVIEW_QUEUE

log = logging.getLogger(__name__)

MAX_EXTERNAL_ID = 512


@dataclass(frozen=True)
class IngestResult:
    item_id: int
    created: bool  # False: this external id was seen before; nothing new was stored
    reference: str | None
    status: str


def ingest(runtime: Runtime, message: InboundMessage, *, actor: str = "system") -> IngestResult:
    """Store a message (once) and queue its processing. Safe to call again with the same message.

    The request path: one transaction (contact, item, raw bytes, audit entry and — with the database
    queue — the job) and no re-read after it: on PostgreSQL one read and one write
    (`_store_in_two_statements`), on SQLite one read and an INSERT a table (`_store_on_the_driver`);
    a repeat delivery is found by that read and stores nothing. Elsewhere (PostgreSQL with the
    database queue) there is no look-up before the insert: a repeat is found by the unique
    constraint and answered from a second, read-only look-up.
    """
    validate_message(message)
    try:
        if stores_in_two_statements(runtime) or _stores_on_the_driver(runtime):
            [result] = ingest_group(runtime, [(message, actor)])
        else:
            with runtime.database.session() as session:
                [result] = _store_new(runtime, session, [(message, actor)])
    except IntegrityError:
        # Stored before (a replay), or by another process between our two statements.
        with runtime.database.session() as session:
            existing = _find_existing(session, message)
            if existing is None:
                raise
            return IngestResult(existing.id, False, existing.reference, existing.status)
    return result


def ingest_group(
    runtime: Runtime, messages: Sequence[tuple[InboundMessage, str]], *, connection: Connection | None = None
) -> list[IngestResult]:
    """Store several (message, actor) at once in ONE transaction — group commit: on SQLite one
    fsync for the group instead of one a message — and queue each one's processing.

    Same guarantees as `ingest`, message by message: one item per (channel, external id), so a
    message stored before, or a second copy in this very group, is answered with the existing item
    and stores nothing; raw bytes kept; one audit entry each, chained one after another; each job
    queued in or after the commit.
    Anything raised (one bad message, another process storing the same id meanwhile) rolls back
    the whole group and is raised: the caller then ingests the messages one by one with `ingest`.

    `connection`: where `stores_in_two_statements`, an AUTOCOMMIT connection the caller keeps from
    group to group (the group writer's: no checkout, so no ping, a group); else one from the pool.
    """
    for message, _actor in messages:
        validate_message(message)
    if _stores_on_the_driver(runtime):
        return _store_on_the_driver(runtime, messages)
    if stores_in_two_statements(runtime):
        if connection is not None:
            return _store_in_two_statements(runtime, messages, connection)
        with runtime.database.engine.connect() as pooled:
            return _store_in_two_statements(runtime, messages, pooled.execution_options(isolation_level="AUTOCOMMIT"))
    keys = _keys(messages)
    with runtime.database.session() as session:
        stored_before = _existing_results(session.connection(), keys)
        new = _new_indices(keys, stored_before)
        stored = _store_new(runtime, session, [messages[i] for i in new])
    return _answers(keys, stored_before, new, stored)


def _keys(messages: Sequence[tuple[InboundMessage, str]]) -> list[tuple[str, str]]:
    return [(message.channel, message.external_id.strip()) for message, _actor in messages]


def _new_indices(keys: Sequence[tuple[str, str]], stored_before: Container[tuple[str, str]]) -> list[int]:
    """The messages to store: not stored before, and only the first copy of a key in the group."""
    firsts: dict[tuple[str, str], int] = {}
    return [i for i, key in enumerate(keys) if key not in stored_before and firsts.setdefault(key, i) == i]


def _answers(
    keys: Sequence[tuple[str, str]],
    stored_before: Mapping[tuple[str, str], IngestResult],
    new: Sequence[int],
    stored: Sequence[IngestResult],
) -> list[IngestResult]:
    """Each message's answer: its new item, the item stored before, or its first copy's item."""
    created = {keys[i]: result for i, result in zip(new, stored, strict=True)}
    created_at = set(new)
    results: list[IngestResult] = []
    for i, key in enumerate(keys):
        if i in created_at:
            results.append(created[key])
        elif key in stored_before:
            results.append(stored_before[key])
        else:  # a second copy within the group: the first one's item
            first = created[key]
            results.append(IngestResult(first.item_id, False, first.reference, first.status))
    return results


def stores_in_two_statements(runtime: Runtime) -> bool:
    """PostgreSQL, with jobs queued after the commit (rq, in-process): the database queue's jobs
    are rows written in the items' transaction, which the portable path does."""
    return runtime.database.engine.dialect.name == "postgresql" and not isinstance(runtime.jobs, DatabaseQueue)


def _stores_on_the_driver(runtime: Runtime) -> bool:
    """SQLite, whatever the job queue: one read and a write a table on the driver's cursor
    (intake/ingest_sqlite.py), the database queue's jobs in the same transaction."""
    return runtime.database.engine.dialect.name == "sqlite"


def _store_in_two_statements(
    runtime: Runtime, messages: Sequence[tuple[InboundMessage, str]], connection: Connection
) -> list[IngestResult]:
    """`ingest_group` on PostgreSQL: one read and one autocommitted write (intake/ingest_postgres.py)
    instead of a transaction of ten round trips; the same rows, the jobs queued once it returns."""
    keys = _keys(messages)
    senders = _senders(messages)
    emails, phones = contact_lookups(senders)
    # ids for as many new contacts as there could be: one a distinct email, or phone without one
    found = ingest_postgres.look(
        connection, keys, emails=emails, phones=phones, contacts=len(emails) + len(phones)
    )
    group = _plan_group(runtime, messages, keys, senders, found)
    if group.rows is not None:
        ingest_postgres.write(connection, group.rows)
        runtime.jobs.enqueue_process_items(group.item_ids)  # committed: the write was one autocommitted statement
    return group.answers(keys)


def _store_on_the_driver(runtime: Runtime, messages: Sequence[tuple[InboundMessage, str]]) -> list[IngestResult]:
    """`ingest_group` on SQLite: one read and a write a table in one IMMEDIATE transaction, on the
    driver's cursor (intake/ingest_sqlite.py); with the database queue the jobs are its rows too,
    else they are queued once it commits."""
    keys = _keys(messages)
    senders = _senders(messages)
    emails, phones = contact_lookups(senders)
    with runtime.database.engine.connect() as connection, connection.begin():  # the writer's turn, BEGIN IMMEDIATE
        driver = cast(sqlite3.Connection, connection.connection.driver_connection)
        with closing(driver.cursor()) as cursor:
            found = ingest_sqlite.look(cursor, keys, emails=emails, phones=phones, contacts=len(emails) + len(phones))
            group = _plan_group(runtime, messages, keys, senders, found)
            if group.rows is not None:
                jobs = (
                    runtime.jobs.process_item_rows(group.item_ids) if isinstance(runtime.jobs, DatabaseQueue) else None
                )
                ingest_sqlite.write(
                    cursor,
                    group.rows,
                    dialect=connection.dialect,
                    context=SimpleNamespace(execution_options=connection.get_execution_options()),  # the clock
                    jobs=jobs,
                )
    if group.rows is not None and not isinstance(runtime.jobs, DatabaseQueue):
        runtime.jobs.enqueue_process_items(group.item_ids)  # committed
    return group.answers(keys)


def _senders(messages: Sequence[tuple[InboundMessage, str]]) -> list[Sender]:
    return [(m.sender_email, m.sender_phone, _clean(m.sender_name), m.sender_role) for m, _actor in messages]


@dataclass(frozen=True)
class _PlannedGroup:
    stored_before: dict[tuple[str, str], IngestResult]
    new: list[int]  # the messages to store (indices)
    item_ids: list[int]  # theirs, in turn
    rows: GroupRows | None  # None: nothing new to store
    stored: list[IngestResult]

    def answers(self, keys: Sequence[tuple[str, str]]) -> list[IngestResult]:
        return _answers(keys, self.stored_before, self.new, self.stored)


def _plan_group(
    runtime: Runtime,
    messages: Sequence[tuple[InboundMessage, str]],
    keys: Sequence[tuple[str, str]],
    senders: Sequence[Sender],
    found: Look,
) -> _PlannedGroup:
    """The rows a group stores, decided from what the look found: the messages not stored before
    (the first copy of each), their contacts, items, raw bytes, attachments and audit entries.
    `keys` and `senders`: the messages', as the look was asked for them."""
    stored_before = {
        key: IngestResult(item_id, False, reference, status)
        for key, (item_id, reference, status) in found.stored_before.items()
    }
    new = _new_indices(keys, stored_before)
    if not new:
        return _PlannedGroup(stored_before, new, [], None, [])
    contacts = plan_contacts([senders[i] for i in new], found.contacts)
    new_contact_ids = dict(zip(contacts.new, found.contact_ids, strict=False))
    item_ids = found.item_ids[: len(new)]
    rows = []
    for item_id, contact_id, i in zip(item_ids, contacts.ids(new_contact_ids), new, strict=True):
        rows.append({"id": item_id, **_new_item_values(messages[i][0], runtime.clock, contact_id=contact_id)})
    entries = [
        (messages[i][1], "received", row["id"], {"channel": row["channel"], "external_id": _fingerprint(row["external_id"])})
        for i, row in zip(new, rows, strict=True)
    ]
    group_rows = GroupRows(
        contacts=[{"id": new_contact_ids[key], **values} for key, values in contacts.new.items()],
        contact_changes=contacts.changed,
        items=rows,
        raw_messages=[_raw_values(item_id, messages[i][0]) for item_id, i in zip(item_ids, new, strict=True)],
        attachments=[
            values for item_id, i in zip(item_ids, new, strict=True) for values in _attachment_values(item_id, messages[i][0])
        ],
        audit_entries=audit.chained_rows(
            entries, ids=found.entry_ids[: len(new)], head=found.head, at=runtime.now().astimezone(UTC)
        ),
        marked_item_ids=item_ids,  # what the ORM's flush hook would have marked: the new items
    )
    stored = [IngestResult(row["id"], True, None, row["status"]) for row in rows]
    return _PlannedGroup(stored_before, new, item_ids, group_rows, stored)


def _store_new(
    runtime: Runtime, session: Session, messages: Sequence[tuple[InboundMessage, str]]
) -> list[IngestResult]:
    """Store messages not seen before (contacts, items, raw bytes, attachments, audit entries, the
    reports' fact marks, the jobs) through SQLAlchemy Core: one multi-row INSERT a table, no ORM
    unit of work (half the request path's CPU in issue 14's profile). A message stored meanwhile
    raises IntegrityError from the items' unique constraint, and the transaction rolls back."""
    if not messages:
        return []
    connection = session.connection()
    contact_ids = find_or_create_contact_ids(
        connection,
        [(m.sender_email, m.sender_phone, _clean(m.sender_name), m.sender_role) for m, _actor in messages],
    )
    rows = [
        _new_item_values(message, runtime.clock, contact_id=contact_id)
        for (message, _actor), contact_id in zip(messages, contact_ids, strict=True)
    ]
    item_ids = insert_returning_ids(connection, _ITEMS, rows)
    raw_rows, attachment_rows = [], []
    for item_id, (message, _actor) in zip(item_ids, messages, strict=True):
        raw_rows.append(_raw_values(item_id, message))
        attachment_rows += _attachment_values(item_id, message)
    connection.execute(plain_insert(cast(Table, RawMessage.__table__)), raw_rows)
    if attachment_rows:
        connection.execute(plain_insert(cast(Table, Attachment.__table__)), attachment_rows)
    audit.record_many(
        session,
        [
            (actor, "received", item_id, {"channel": row["channel"], "external_id": _fingerprint(row["external_id"])})
            for item_id, row, (_message, actor) in zip(item_ids, rows, messages, strict=True)
        ],
    )
    mark_items(session, item_ids)  # what the ORM's flush hook would have marked: the new items
    runtime.jobs.enqueue_process_items(item_ids, session=session)
    return [IngestResult(item_id, True, None, row["status"]) for item_id, row in zip(item_ids, rows, strict=True)]


def _existing_results(
    connection: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], IngestResult]:
    """The items already stored for any of these (channel, external id), in one query (Core)."""
    rows = connection.execute(
        _STORED_BEFORE,
        {"channels": sorted({channel for channel, _ in keys}), "external_ids": sorted({e for _, e in keys})},
    )
    wanted = set(keys)
    return {
        (row.channel, row.external_id): IngestResult(row.id, False, row.reference, row.status)
        for row in rows
        if (row.channel, row.external_id) in wanted
    }


_ITEMS = cast(Table, Item.__table__)
_STORED_BEFORE = select(
    _ITEMS.c.id, _ITEMS.c.channel, _ITEMS.c.external_id, _ITEMS.c.reference, _ITEMS.c.status
).where(
    _ITEMS.c.channel.in_(bindparam("channels", expanding=True)),
    _ITEMS.c.external_id.in_(bindparam("external_ids", expanding=True)),
)


def validate_message(message: InboundMessage) -> None:
    if message.channel not in CHANNELS:
        raise InvalidMessage(f"unknown channel {message.channel!r}; expected one of {', '.join(CHANNELS)}")
    if not message.external_id or not message.external_id.strip():
        raise InvalidMessage("external_id is required: it is what makes a repeated delivery harmless")
    if len(message.external_id) > MAX_EXTERNAL_ID:
        raise InvalidMessage(f"external_id is longer than {MAX_EXTERNAL_ID} characters")


def _find_existing(session: Session, message: InboundMessage) -> Item | None:
    return session.scalars(
        select(Item).where(Item.channel == message.channel, Item.external_id == message.external_id.strip())
    ).first()


def _store(session: Session, message: InboundMessage, clock: Clock = SYSTEM_CLOCK) -> Item:
    contact = find_or_create_contact(
        session,
        email=message.sender_email,
        phone=message.sender_phone,
        name=_clean(message.sender_name),
        role=message.sender_role,
    )
    item = _new_item(message, clock, contact_id=contact.id if contact else None)
    session.add(item)
    session.flush()
    _add_contents(session, item, message)
    return item


def _new_item(message: InboundMessage, clock: Clock, *, contact_id: int | None = None) -> Item:
    """The item a message becomes, not yet added to a session."""
    return Item(**_new_item_values(message, clock, contact_id=contact_id))


def _new_item_values(message: InboundMessage, clock: Clock, *, contact_id: int | None) -> dict[str, Any]:
    """The columns of the item a message becomes (the same keys for every message: one executemany)."""
    received_at = (message.received_at or clock.now()).astimezone(UTC)
    details = _details(message)
    if message.ack_channel:
        details = {**details, "ack_channel": message.ack_channel}
    if message.sender_role:
        details = {**details, "sender_role": message.sender_role}
    return {
        "channel": message.channel,
        "external_id": message.external_id.strip(),
        "received_at": received_at,
        "subject": _clean(message.subject),
        "body": _clean(message.body) or "",
        "sender_address": _clean(message.sender_address),
        "sender_name": _clean(message.sender_name),
        "contact_id": contact_id,
        "headers": {k: _clean(v) for k, v in message.headers.items()},
        "thread_keys": [k for k in message.thread_keys if k][:100],
        "details": details,
        "mailbox_hint": message.mailbox_hint,
        "parse_error": message.parse_error,
        "suppress_acknowledgement_reason": message.suppress_acknowledgement_reason,
        "status": "received",
        "case_status": "open",
    }


def _add_contents(session: Session, item: Item, message: InboundMessage) -> None:
    """The raw bytes as they arrived and the attachments, beside a flushed item (it has its id)."""
    session.add(RawMessage(**_raw_values(item.id, message)))
    for values in _attachment_values(item.id, message):
        session.add(Attachment(**values))


def _raw_values(item_id: int, message: InboundMessage) -> dict[str, Any]:
    raw = message.raw if message.raw is not None else (message.body or "").encode("utf-8", "surrogatepass")
    return {
        "item_id": item_id,
        "channel": message.channel,
        "content_type": message.raw_content_type or "text/plain; charset=utf-8",
        "content": raw,
        "sha256": hashlib.sha256(raw).hexdigest(),
    }


def _attachment_values(item_id: int, message: InboundMessage) -> list[dict[str, Any]]:
    return [
        {
            "item_id": item_id,
            "filename": (_clean(attachment.filename) or "attachment")[:255],
            "content_type": attachment.content_type[:128],
            "size": attachment.size,
            "sha256": attachment.sha256,
            "content": attachment.content,
        }
        for attachment in message.attachments
    ]


def _details(message: InboundMessage) -> dict[str, Any]:
    """The channel's own facts, with a sending system's metadata beside them as data only (under
    `client_metadata`), so no key a client chooses can become the system's state."""
    details = dict(message.metadata)
    details.pop("client_metadata", None)
    if message.client_metadata:
        details["client_metadata"] = message.client_metadata
    return details


def process_item(runtime: Runtime, item_id: int, *, actor: str = "worker") -> None:
    """Classify → link → route → deadlines → plan acknowledgement — one transaction.

    Each step is one function in one module. Runs again harmlessly: a processed item is left alone
    except that a still-pending acknowledgement is queued again.
    """
    process_items(runtime, [item_id], actor=actor)


# SQLite has one writer: a batch written in one transaction would keep every webhook waiting on
# `busy_timeout` for the whole batch, so there a batch is written a few items per transaction.
SQLITE_ITEMS_PER_TRANSACTION = 4


def process_items(
    runtime: Runtime,
    item_ids: Sequence[int],
    *,
    also: Sequence[int] = (),
    actor: str = "worker",
    on_committed: Callable[[list[int], list[int], ReadyToSend], None] | None = None,
    queue_acknowledgements: bool = True,
) -> list[int]:
    """Process a batch of items, classified together with one `classify_many` call made before any
    write transaction begins, then written in ONE transaction (PostgreSQL; on SQLite, a few items
    per transaction, see above).

    `item_ids` are this worker's to process (it holds their jobs): their rows are locked, waiting if
    need be. `also` are items a worker takes along when it can (rq: the next jobs in its queue):
    locked only if no one else holds them (SKIP LOCKED) and still `received`, else left to their own
    job. Returns the ids of `also` that were processed here, so their jobs can be dropped.

    A worker killed half-way leaves every item of an uncommitted transaction `received`, and its job
    (or the sweep) runs it again. Anything raised rolls that transaction back; the caller then
    processes the items one by one, so one bad item fails only itself.

    With `also`, several workers share one queue: `also` may be longer than a batch, and the batch
    takes from it only items no other worker holds, up to `BATCH_SIZE` in all. One of `item_ids`
    that another worker's batch holds is not waited for first: this batch goes ahead without it,
    `on_committed` is called with the ids taken (and the acknowledgements to send), and only then is it waited for (it is found
    processed, or — its worker died — processed here). Without that, a worker whose job was in
    another's batch waited for it and then found its own batch already done: with 4 worker
    processes, 88 jobs ran for 640 items instead of 20 (bench/bench_workers.py, issue 14).
    `queue_acknowledgements=False`: the batch's acknowledgements get no jobs; `on_committed` is
    then the one to send them (or queue their jobs), and is also given the messages of those planned
    here, built before the commit (`acknowledgements.ready_to_send`), so it need not read them back.
    """
    held: list[int] = []
    if also:
        held, also = _free_to_take(runtime, item_ids, also)
        item_ids = [item_id for item_id in item_ids if item_id not in held]
    sqlite = runtime.database.engine.dialect.name == "sqlite"
    # Taking along on PostgreSQL, the batch is classified once its rows are locked: classified
    # first, two workers that chose the same free rows both classified them and one then found
    # them locked. (SQLite has no row locks and one writer: classified before, as ever.)
    classified = None if also and not sqlite else _classify_ahead(runtime, [*item_ids, *also])
    size = len(item_ids) or 1
    if sqlite:
        size = SQLITE_ITEMS_PER_TRANSACTION
    taken: list[int] = []
    queued: list[int] = []
    ready: ReadyToSend = {}
    for start in range(0, max(len(item_ids), 1), size):
        chunk = list(item_ids[start : start + size])
        part, acknowledgements, built = _process_locked(
            runtime, chunk, also if start == 0 else (), classified, actor=actor, queue=queue_acknowledgements
        )
        taken += part
        queued += acknowledgements
        ready.update(built)
    if on_committed is not None:
        on_committed(taken, queued, ready)
    if held:
        process_items(runtime, held, actor=actor)
    return taken


def _received_by_id() -> ColumnElement[bool]:
    """`items.status = 'received'` for a query that picks its rows by id, written (status || '') so
    that the primary key is the only index PostgreSQL can use. Offered the status index and no
    statistics (a new database, or one not analyzed since it filled), the planner read every entry
    for 'received' in it — each item ever received, until vacuum — to find a batch's 32 ids: 1–6 ms
    a query at 3,000 items, growing with the table (issue 14's 60-second runs)."""
    return Item.status.concat("") == "received"


def _free_to_take(runtime: Runtime, own: Sequence[int], also: Sequence[int]) -> tuple[list[int], list[int]]:
    """(those of `own` another worker holds now, the first ids of `also` to take along).

    Taken along: still `received`, held by no other worker (a momentary FOR SHARE SKIP LOCKED:
    locks are what the batches hold), and not from a sender one of whose items here another worker
    holds — a follow-up waits for the text it follows up, as it would one job after another."""
    with runtime.database.session() as session:
        waiting = session.execute(
            select(Item.id, Item.sender_address)
            .where(Item.id.in_([*own, *also]), _received_by_id())
            .order_by(Item.id)
        ).all()
        free = set(
            session.scalars(
                select(Item.id)
                .where(Item.id.in_([row.id for row in waiting]))
                .with_for_update(read=True, skip_locked=True)
            )
        )
    held_elsewhere = [row for row in waiting if row.id not in free]
    busy = {row.sender_address for row in held_elsewhere if row.sender_address}
    mine = set(own)
    room = max(BATCH_SIZE - len(mine), 0)
    take = [row.id for row in waiting if row.id in free and row.id not in mine and row.sender_address not in busy]
    return [row.id for row in held_elsewhere if row.id in mine], take[:room]


def _load_deadlines_and_contacts(session: Session, items: Sequence[Item]) -> None:
    """What `selectinload(Item.deadlines)` and `selectinload(Item.contact)` load, in one query each
    for all of a batch's rows: as options of the two locking queries (the worker's own items, those
    taken along) they cost four (issue 14). Read by the deadlines step and the acknowledgement's
    routing, which then find them in the session."""
    if not items:
        return
    deadlines_of: dict[int, list[Deadline]] = {item.id: [] for item in items}
    # The relationship's own order (Item.deadlines is ordered by due date), as selectinload gives it.
    for deadline in session.scalars(
        select(Deadline).where(Deadline.item_id.in_(list(deadlines_of))).order_by(Deadline.due_at)
    ):
        deadlines_of[deadline.item_id].append(deadline)
    contact_ids = {item.contact_id for item in items if item.contact_id is not None}
    contacts = (
        {contact.id: contact for contact in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
        if contact_ids
        else {}
    )
    for item in items:
        set_committed_value(item, "deadlines", deadlines_of[item.id])
        set_committed_value(item, "contact", contacts.get(item.contact_id) if item.contact_id is not None else None)


def _process_locked(
    runtime: Runtime,
    item_ids: list[int],
    also: Sequence[int],
    classified: dict[int, tuple[str, Any]] | None,
    *,
    actor: str,
    queue: bool = True,
) -> tuple[list[int], list[int], ReadyToSend]:
    """One transaction: lock the items, triage each, queue their acknowledgements, commit. Returns
    the ids of `also` processed and of the acknowledgements queued, and (`queue=False`: the caller
    sends them) the messages of those planned here.

    The batch is written in two passes so the database sees a few statements per batch rather than
    per item: first every item is classified, linked, routed and given its dates, all flushed
    together (one INSERT per table, the item UPDATEs in one executemany); then each item's
    acknowledgement is planned and its `processed` entry recorded. Anything that reads what an
    earlier item of the batch is still to write — a follow-up of a case opened earlier in the batch,
    an SMS keyword or a bounce — first has the earlier items finished, so every item sees exactly
    what it would see were the items processed one after another.
    """
    with runtime.database.session() as session:
        locked = select(Item).where(Item.id.in_(item_ids)).order_by(Item.id).with_for_update()
        items = list(session.scalars(locked))
        taken: list[Item] = []
        extra = [item_id for item_id in also if item_id not in set(item_ids)]
        if extra:
            taken = list(
                session.scalars(
                    select(Item)
                    .where(Item.id.in_(extra), _received_by_id())
                    .order_by(Item.id)
                    .with_for_update(skip_locked=True)
                )
            )
        missing = set(item_ids) - {item.id for item in items}
        if missing:
            log.warning("process_items: no item(s) %s", sorted(missing))
        batch = sorted([*items, *taken], key=lambda row: row.id)
        _load_deadlines_and_contacts(session, batch)
        if classified is None:  # classified now that its rows are this worker's
            classified = _classify_rows(
                runtime,
                [
                    (item.id, MessageInput(item.body, item.channel, item.subject, item.sender_address, item.sender_name))
                    for item in batch
                    if item.status == "received" and item.parse_error is None
                ],
            )
        phone_senders = cases.phone_senders_to_look_up(runtime, session, batch) if len(batch) > 1 else None
        unplanned: list[Item] = []  # triaged, acknowledgement not yet planned
        owners: list[int] = []  # the items (and cases) whose pending acknowledgements are queued
        for item in batch:
            if item.status == "processed":
                owners.append(item.id)  # done before: its still-pending acknowledgements go again
                continue
            if _acts_on_system_state(item):
                _finish(runtime, session, unplanned, actor=actor)
                if _handle_without_triage(runtime, session, item):
                    continue
            ahead = classified.get(item.id)
            # Classified before this transaction: used only if the text is still the same.
            result = ahead[1] if ahead is not None and ahead[0] == item.body else None
            _triage(runtime, session, item, result, unplanned, actor=actor, phone_senders=phone_senders)
            unplanned.append(item)
            owners += [item.case_root_id, item.id]
        _finish(runtime, session, unplanned, actor=actor)
        # Written in this transaction (database queue) or queued once it commits (rq, inline).
        queued = cases.pending_acknowledgement_ids(session, *owners)
        planned = session.info.pop(_PLANNED, [])
        ready = {} if queue else ready_to_send(runtime, session, planned)
        for acknowledgement_id in queued if queue else ():
            runtime.jobs.enqueue_acknowledgement(acknowledgement_id, session=session)
    return [item.id for item in taken], queued, ready


def _acts_on_system_state(item: Item) -> bool:
    """An SMS keyword or a bounce (intake/control_messages.py) may change what an earlier item's
    acknowledgement does (an opt-out, a bounced address): those items are finished first."""
    return "sms_keyword" in item.details or "bounce_of" in item.details


def _triage(
    runtime: Runtime,
    session: Session,
    item: Item,
    result: Any,
    unplanned: list[Item],
    *,
    actor: str,
    phone_senders: set[str] | None = None,
) -> None:
    """The first pass for one received item: classify → link → route → deadlines. `unplanned`: the
    batch's items triaged before it, finished first if this item follows up one of their cases."""
    confident = _classify(runtime, session, item, result)
    root = cases.link_to_case(runtime, session, item, phone_senders=phone_senders)
    if root is not None and any(earlier.id == root.id for earlier in unplanned):
        _finish(runtime, session, unplanned, actor=actor)
    route_new_item(item, root=root, confident=confident)
    _set_deadlines(runtime, session, item, root)
    if item.reference is None:
        item.reference = make_reference(item.received_at, item.id)
    item.status = "processed"
    # Every item of the batch writes the same columns, so their UPDATEs go as one executemany
    # instead of one statement per distinct set of changed columns (the rows are locked: writing a
    # column's unchanged value overwrites nothing).
    for column in _TRIAGED_COLUMNS:
        flag_modified(item, column)


# What the first pass may change on an item.
_TRIAGED_COLUMNS = (
    "type", "confidence", "categories", "flags", "hazards", "queue", "model_version", "language",
    "prepared_text", "explanation", "review_reason", "routing_reason", "suppress_acknowledgement_reason",
    "details", "case_id", "complaint_stage", "stage_started_at", "next_due_at", "reference", "status",
)


def _finish(runtime: Runtime, session: Session, unplanned: list[Item], *, actor: str) -> None:
    """The second pass: plan each triaged item's acknowledgement and record it processed. Empties
    `unplanned`."""
    if not unplanned:
        return
    session.flush()  # the first pass of every item at once
    _write_classification_runs(session)
    planned = plan_acknowledgements(runtime, session, unplanned, purpose="received")
    session.info.setdefault(_PLANNED, []).extend(planned)
    for item in unplanned:
        audit.record(
            session,
            actor=actor,
            action="processed",
            item_id=item.id,
            reference=item.reference,
            type=item.type,
            queue=item.queue,
            flags=item.flags,
            case_id=item.case_root_id,
        )
    unplanned.clear()


def _classify_ahead(runtime: Runtime, item_ids: list[int]) -> dict[int, tuple[str, Any]]:
    """The model's answers for the batch's readable received items, in one call and outside any
    write transaction: {item id: (the text classified, the answer)}; {} when the model cannot give
    them (each item then asks it alone in `_classify`, which records why it could not)."""
    if len(item_ids) < 2:
        return {}
    with runtime.database.session() as session:
        rows = session.execute(
            select(Item.id, Item.body, Item.channel, Item.subject, Item.sender_address, Item.sender_name).where(
                Item.id.in_(item_ids), _received_by_id(), Item.parse_error.is_(None)
            )
        ).all()
    return _classify_rows(
        runtime,
        [(row.id, MessageInput(row.body, row.channel, row.subject, row.sender_address, row.sender_name)) for row in rows],
    )


def _classify_rows(runtime: Runtime, rows: list[tuple[int, MessageInput]]) -> dict[int, tuple[str, Any]]:
    """{item id: (the text classified, the model's answer)} in one `classify_many` call; {} for
    fewer than two items or when the model cannot answer (`_classify` then asks item by item)."""
    if len(rows) < 2:
        return {}
    try:
        results = runtime.classifier.classify_many([message for _, message in rows])
    except Exception:  # no model or a failing one: `_classify` handles each item as before
        log.warning("batch classification unavailable; classifying one at a time", exc_info=True)
        return {}
    return {item_id: (message.text, result) for (item_id, message), result in zip(rows, results, strict=True)}


def _set_deadlines(runtime: Runtime, session: Session, item: Item, root: Item | None) -> None:
    """The deadlines step: a new case gets its dates; a follow-up may change its case's."""
    if root is None:
        cases.open_case(runtime, session, item)
        deadlines.recompute(runtime, session, item)
    elif cases.add_follow_up(runtime, session, item, root):
        deadlines.recompute(runtime, session, root)


def _classify(runtime: Runtime, session: Session, item: Item, result: Any = None) -> bool:
    """The classify step: labels, flags and the model's suggested queue; True when confident.

    `result`: the model's answer computed with the rest of a batch, or None to ask it now."""
    if item.parse_error:
        item.type, item.queue, item.confidence = None, REVIEW_QUEUE, 0.0
        item.review_reason = f"could not be read: {item.parse_error}"
        item.routing_reason = "unreadable message → triage_review"
        return False
    if result is not None:
        return _apply_classification(session, item, result)
    try:
        classifier = runtime.classifier
    except Exception as error:  # no model, or one that will not load: the rules still run
        log.error("classifier unavailable: %s", type(error).__name__)
        _route_by_rules_only(item, f"classifier unavailable ({type(error).__name__}: {error})"[:500])
        return False
    try:
        result = classifier.classify(
            item.body,
            channel=item.channel,
            subject=item.subject,
            sender=item.sender_address,
            sender_name=item.sender_name,
        )
    except Exception as error:  # a bug or a bad model: this item still gets its safety rules
        log.exception("classifier failed on item %s", item.id)
        _route_by_rules_only(item, f"classifier failed on this message ({type(error).__name__})")
        return False
    return _apply_classification(session, item, result)


def _apply_classification(session: Session, item: Item, result: Any) -> bool:
    data = result.to_dict()  # once: the explanation and the classification run both keep it
    item.type = result.type
    item.confidence = result.confidence
    item.categories = list(result.categories)
    item.flags = list(result.flags)
    item.hazards = sorted({hit.value for hit in result.explanation.rules if hit.effect == "hazard"})
    item.queue = result.queue
    item.model_version = result.model_version
    item.language = result.language
    item.prepared_text = result.prepared_text
    item.explanation = _explanation_dict(data)
    item.review_reason = result.explanation.review_reason
    item.routing_reason = item.explanation.get("routing_reason")
    if result.junk:  # spam, marketing, phishing, automated notices: kept in not_for_triage, never acknowledged
        item.suppress_acknowledgement_reason = "junk (spam, marketing, phishing or an automated notice)"
    # Kept for one INSERT when the item is written (`_write_classification_runs`): nothing reads a
    # run back in the transaction that records it, and as ORM objects a batch's runs cost the unit
    # of work more than their INSERT.
    session.info.setdefault(_UNWRITTEN_RUNS, []).append(
        {"item_id": item.id, "model_version": result.model_version, "result": data}
    )
    return item.queue != REVIEW_QUEUE


_UNWRITTEN_RUNS = "pipeline.classification_runs"
# The acknowledgements this transaction planned (see `_process_locked`).
_PLANNED = "pipeline.planned_acknowledgements"


def _write_classification_runs(session: Session) -> None:
    """The classification runs recorded since the last call, in one multi-row INSERT."""
    rows = session.info.pop(_UNWRITTEN_RUNS, None)
    if rows:
        session.execute(insert(ClassificationRun), rows)


def _route_by_rules_only(item: Item, why: str) -> None:
    """Degraded mode: no model answer, so no type — but the rules run and route as they always do.

    Safety must never depend on a model being loaded: a gas smell still gets `urgent_safety`, the
    emergency queue and its deadlines (routing overrides that bypass review apply without a type);
    everything else waits in triage_review with `why` as its review reason.
    """
    message = MessageInput(
        text=item.body, channel=item.channel, subject=item.subject,
        sender=item.sender_address, sender_name=item.sender_name,
    )
    hits = encode([message])[0].hits
    decision = decide(None, flags_from(hits), confident=False)
    item.type, item.confidence, item.categories = None, 0.0, []
    item.flags = sorted(flags_from(hits))
    item.hazards = sorted(hazards_from(hits))
    item.queue = decision.queue
    item.review_reason = why
    item.routing_reason = f"rules only, {why}: {decision.reason}"
    item.explanation = {
        "rules": [{"rule": h.rule, "effect": h.effect, "value": h.value, "matched": h.matched} for h in hits],
        "review_reason": why,
        "routing_reason": item.routing_reason,
    }


def _explanation_dict(data: dict[str, Any]) -> dict[str, object]:
    explanation = dict(data["explanation"])
    explanation["type_probabilities"] = data["type_probabilities"]
    explanation["category_probabilities"] = data["category_probabilities"]
    explanation["hazard_state"] = data.get("hazard_state", "live")
    explanation["junk"] = data.get("junk", False)
    return explanation


def _clean(value: str | None) -> str | None:
    """Text safe for every database: PostgreSQL refuses NUL characters; the raw bytes keep them."""
    if value is None:
        return None
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _fingerprint(value: str) -> str:
    # External ids can carry addresses (Message-IDs); the audit log keeps a fingerprint instead.
    return hashlib.sha256(value.encode()).hexdigest()[:16]
