"""The append-only audit log: one call per thing that happened, each entry linked into a hash chain.

The database refuses UPDATE, DELETE, a replacing INSERT and (PostgreSQL) TRUNCATE on `audit_log`
(migrations 0001 and 0005). The chain catches what those triggers cannot: someone who drops them
(a database owner) and edits or deletes entries. Each entry stores the id and hash of the newest
entry it could see when written, and its own hash over that link and its contents; `intake audit
verify` recomputes every hash and follows every link. Writers never wait for each other — two
entries written at once may link to the same predecessor, which verify accepts — and deleting the
newest entries leaves no broken link, so keep the head `verify` prints somewhere else (a ticket,
the backup log) to detect that too.

Words a person typed about a case (a response summary, the reason for an escalation, a remedy) are
not written here: they go to `audit_texts`, which erasure can replace, and the entry keeps
`{"note_id": n}` (see docs/privacy.md). The log then never holds a resident's story — and erasure
never has to change a chained entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, event, insert, inspect, select, text
from sqlalchemy.orm import Session

from intake.clock import session_now
from models import AuditEntry, AuditText

# Detail keys that carry words a person typed about a case.
FREE_TEXT_KEYS = ("summary", "reason", "remedy", "note")


def record(session: Session, *, actor: str, action: str, item_id: int | None = None, **details: Any) -> None:
    at_flush = _chained_at_flush(session)
    details, notes = _take_free_text(
        session, actor=actor, action=action, item_id=item_id, details=details, number_at_flush=at_flush
    )
    # Stored as JSON: normalise now so the hash is over exactly what the database will hand back.
    stored_details = json.loads(json.dumps(details))
    at = session_now(session)  # the runtime's clock, installed on the session's engine
    entry = AuditEntry(at=at, actor=actor, action=action, item_id=item_id, details=stored_details)
    session.add(entry)
    if at_flush:
        if notes:
            session.info.setdefault(_UNNUMBERED, []).append((entry, notes))
        session.info.setdefault(_UNCHAINED, []).append(entry)
        return
    link = _predecessor(session)
    _chain(entry, *link)
    session.info[_LAST_WRITTEN] = entry
    session.info[_ITS_LINK] = link


def record_many(session: Session, entries: Sequence[tuple[str, str, int | None, dict[str, Any]]]) -> None:
    """Several entries (actor, action, item id, details) in one multi-row INSERT through Core, each
    linked to the one before it, the first to the newest entry in the database — the same chain
    `record` writes, without the ORM's unit of work (a group of webhooks: issue 14's profile put
    half the request path's CPU in the flush). Details must hold no free text (`FREE_TEXT_KEYS`):
    there is no note to move it to here. The caller marks the items' report facts."""
    if not entries:
        return
    refuse_free_text(entries)
    connection = session.connection()
    at = session_now(session)
    if connection.dialect.name == "postgresql":
        # One statement: the head (from the statement's snapshot) and then the new ids, so every id
        # is higher than its predecessor's, as `verify` requires.
        rows = connection.execute(_HEAD_AND_NEXT_IDS, {"count": len(entries)}).all()
        previous_id, previous_hash = rows[0].head_id, rows[0].head_hash
        ids = sorted(row.id for row in rows)
    else:
        # SQLite: the transaction began IMMEDIATE (intake/db.py), so nobody else writes until it
        # ends and the ids after the newest are ours to give.
        head = connection.execute(_HEAD).first()
        previous_id, previous_hash = (head[0], head[1]) if head else (None, None)
        first = (previous_id or 0) + 1
        ids = list(range(first, first + len(entries)))
    values = chained_rows(entries, ids=ids, head=(previous_id, previous_hash), at=at)
    connection.execute(_INSERT_ENTRIES, values)
    # A later `record` in this session reads the head again (these entries have no ORM object).
    session.info.pop(_LAST_WRITTEN, None)
    session.info.pop(_ITS_LINK, None)


def refuse_free_text(entries: Sequence[tuple[str, str, int | None, dict[str, Any]]]) -> None:
    """Entries written as plain rows have no note to move a person's words to (`_take_free_text`)."""
    for _actor, _action, item_id, details in entries:
        if item_id is not None and any(isinstance(details.get(key), str) for key in FREE_TEXT_KEYS):
            raise ValueError("record_many takes no free text about an item: use record")


def chained_rows(
    entries: Sequence[tuple[str, str, int | None, dict[str, Any]]],
    *,
    ids: Sequence[int],
    head: tuple[int | None, str | None],
    at: datetime,
) -> list[dict[str, Any]]:
    """The `audit_log` rows of `entries` (actor, action, item id, details), given their ids in
    ascending order, each linked to the one before it and the first to `head` (the newest entry
    the writer could see, read BEFORE the ids were taken: every id is higher than its predecessor's,
    as `verify` requires)."""
    previous_id, previous_hash = head
    rows = []
    for entry_id, (actor, action, item_id, details) in zip(ids, entries, strict=True):
        stored_details = json.loads(json.dumps(details))  # the hash is over what the database hands back
        chain_hash = entry_hash(previous_id, previous_hash, at, actor, action, item_id, stored_details)
        rows.append(
            {
                "id": entry_id,
                "at": at,
                "actor": actor,
                "action": action,
                "item_id": item_id,
                "details": stored_details,
                "previous_id": previous_id,
                "chain_hash": chain_hash,
            }
        )
        previous_id, previous_hash = entry_id, chain_hash
    return rows


# The entry this session wrote last: once it is in the database, the next one links to it without
# a query (a worker's batch records three entries an item; issue 14's profile).
_LAST_WRITTEN = "audit.last_written"
# SQLite: while that entry is still pending, the next one shares its predecessor, also without a
# query (a group of webhooks stored together records one entry each before one flush).
_ITS_LINK = "audit.last_written_link"
# PostgreSQL: entries recorded since the last flush, linked when it writes them (see _link_at_flush).
_UNCHAINED = "audit.unchained"
# PostgreSQL: those of them with notes (`_take_free_text`), whose ids their details take at that flush.
_UNNUMBERED = "audit.unnumbered_notes"


def _chain(entry: AuditEntry, previous_id: int | None, previous_hash: str | None) -> None:
    entry.previous_id = previous_id
    entry.chain_hash = entry_hash(
        previous_id, previous_hash, entry.at, entry.actor, entry.action, entry.item_id, entry.details
    )


def _chained_at_flush(session: Session) -> bool:
    bind = session.get_bind(AuditEntry)
    return bind.dialect.name == "postgresql"


def _predecessor(session: Session) -> tuple[int | None, str | None]:
    """The entry a new one links to: this session's own last entry when it is written (it has an
    id, so a lower one than the new entry's), else the newest the database shows."""
    last = session.info.get(_LAST_WRITTEN)
    # Persistent: flushed in this transaction or committed before. A rolled-back one is transient again.
    if last is not None and inspect(last).persistent and last.id is not None:
        return last.id, last.chain_hash
    if last is not None and inspect(last).pending and _ITS_LINK in session.info:
        link: tuple[int | None, str | None] = session.info[_ITS_LINK]
        return link
    # No autoflush: recording must never push the caller's half-built objects to the database early.
    # Entries still pending in this session are not seen, so they share a predecessor (allowed).
    with session.no_autoflush:
        previous = session.execute(
            select(AuditEntry.id, AuditEntry.chain_hash).order_by(AuditEntry.id.desc()).limit(1)
        ).first()
    return (previous[0], previous[1]) if previous else (None, None)


@event.listens_for(Session, "before_flush")
def _link_at_flush(session: Session, _flush_context: object, _instances: object) -> None:
    """PostgreSQL: give the entries this flush writes their ids from the table's sequence (one
    statement for all of them) and link each to the one before it, the first to this session's last
    written entry (else the newest in the database, read BEFORE the ids are taken, so every id is
    higher than its predecessor's as `verify` requires). A batch's entries then cost no head read
    each, and are inserted together."""
    unnumbered = session.info.pop(_UNNUMBERED, None)
    if unnumbered:
        _number_notes(session, unnumbered)
    unchained = session.info.pop(_UNCHAINED, None)
    if not unchained:
        return
    pending = session.new
    entries = [entry for entry in unchained if entry in pending]  # not rolled back or expunged
    if not entries:
        return
    previous_id, previous_hash = _predecessor(session)
    ids = _next_ids(session, "audit_log", len(entries))
    for entry, entry_id in zip(entries, ids, strict=True):
        entry.id = entry_id
        _chain(entry, previous_id, previous_hash)
        previous_id, previous_hash = entry_id, entry.chain_hash
    session.info[_LAST_WRITTEN] = entries[-1]


def _number_notes(session: Session, unnumbered: list[tuple[AuditEntry, list[tuple[str, AuditText]]]]) -> None:
    """PostgreSQL: the notes this flush writes get their ids from the table's sequence (one statement
    for all of them), and each entry's details the ids of its notes — before the entry is hashed.
    Flushing for each note's id instead broke a worker's batch into a flush a suppressed
    acknowledgement (its `reason` is a note), each with its own INSERTs (issue 14)."""
    pending = session.new
    waiting = [(entry, key, note) for entry, notes in unnumbered for key, note in notes
               if entry in pending and note in pending]  # not rolled back or expunged
    if not waiting:
        return
    ids = _next_ids(session, "audit_texts", len(waiting))
    for (entry, key, note), note_id in zip(waiting, ids, strict=True):
        note.id = note_id
        entry.details = {**entry.details, key: {"note_id": note_id}}


_AUDIT_LOG = cast(Table, AuditEntry.__table__)
_HEAD = select(_AUDIT_LOG.c.id, _AUDIT_LOG.c.chain_hash).order_by(_AUDIT_LOG.c.id.desc()).limit(1)
_INSERT_ENTRIES = insert(_AUDIT_LOG)
_HEAD_AND_NEXT_IDS = text(
    "WITH head AS MATERIALIZED (SELECT id, chain_hash FROM audit_log ORDER BY id DESC LIMIT 1) "
    "SELECT (SELECT id FROM head) AS head_id, (SELECT chain_hash FROM head) AS head_hash, "
    "nextval(pg_get_serial_sequence('audit_log', 'id')) AS id FROM generate_series(1, :count)"
)
_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")


def _next_ids(session: Session, table: str, count: int) -> list[int]:
    """PostgreSQL: `count` new ids from `table`'s sequence, in one statement, ascending."""
    return sorted(session.connection().execute(_NEXT_IDS, {"table": table, "count": count}).scalars())


def entry_hash(
    previous_id: int | None,
    previous_hash: str | None,
    at: datetime,
    actor: str,
    action: str,
    item_id: int | None,
    details: dict[str, Any],
) -> str:
    canonical = json.dumps(
        [previous_id, previous_hash, at.astimezone(UTC).isoformat(), actor, action, item_id, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Verification:
    checked: int = 0
    unchained: int = 0  # entries written before the chain existed (migration 0005)
    problems: list[str] = field(default_factory=list)
    head_id: int | None = None
    head_hash: str | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session, *, batch: int = 5000) -> Verification:
    """Recompute every entry's hash and follow every link; each problem names the entry."""
    result = Verification()
    hashes: dict[int, str | None] = {}
    chain_started = False
    for entry in _entries(session, batch):
        hashes[entry.id] = entry.chain_hash
        if entry.chain_hash is None:
            if chain_started:
                result.problems.append(f"entry {entry.id} has no hash: it was written around the application")
            else:
                result.unchained += 1
            continue
        chain_started = True
        result.checked += 1
        previous_hash = None
        if entry.previous_id is not None:
            if entry.previous_id not in hashes:
                result.problems.append(f"entry {entry.previous_id}, which entry {entry.id} follows, is missing")
                continue
            previous_hash = hashes[entry.previous_id]
        expected = entry_hash(
            entry.previous_id, previous_hash, entry.at, entry.actor, entry.action, entry.item_id, entry.details or {}
        )
        if expected != entry.chain_hash:
            result.problems.append(f"entry {entry.id} was changed after it was written")
        result.head_id, result.head_hash = entry.id, entry.chain_hash
    return result


def _entries(session: Session, batch: int) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = list(
            session.scalars(select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch))
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def _take_free_text(
    session: Session,
    *,
    actor: str,
    action: str,
    item_id: int | None,
    details: dict[str, Any],
    number_at_flush: bool = False,
) -> tuple[dict[str, Any], list[tuple[str, AuditText]]]:
    """The details with each free-text value about an item replaced by the id of a note holding it.
    With `number_at_flush` (PostgreSQL) the notes are only added, their places hold
    `{"note_id": None}`, and they are returned by key for `_number_notes` to number at the next
    flush; otherwise each is flushed here for its id."""
    if item_id is None:
        return details, []  # system events (sign-ins, refusals, model decisions): their reasons are ours
    kept = dict(details)
    notes: list[tuple[str, AuditText]] = []
    for key in FREE_TEXT_KEYS:
        value = kept.get(key)
        if isinstance(value, str) and value.strip():
            note = AuditText(item_id=item_id, action=action, field=key, author=actor, text=value)
            session.add(note)
            if number_at_flush:
                notes.append((key, note))
                kept[key] = {"note_id": None}
            else:
                session.flush()
                kept[key] = {"note_id": note.id}
    return kept, notes
