"""Group commit on the request path (intake/ingest_groups.py): messages arriving together are stored
in one transaction, and each one is still stored exactly once, kept raw, audited and queued."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from channels.message import Attachment, InboundMessage
from intake import audit
from intake.api.inbound import store_or_keep
from intake.ingest_groups import GIL_SWITCH_SECONDS, IngestGroups
from intake.pipeline import IngestResult, ingest, ingest_group
from intake.runtime import Runtime
from models import Attachment as AttachmentRow
from models import AuditEntry, Contact, Item, RawMessage
from models.report_facts import ReportFactMark
from tests.conftest import make_settings
from tests.factories import sms_message

BOILER = "The boiler has stopped again and there is no hot water for the children. Please send someone."


def _count(runtime: Runtime, model: type, *where: object) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_two_copies_in_one_group_and_a_later_replay_are_one_item(runtime: Runtime) -> None:
    groups = IngestGroups(runtime)
    first, other = sms_message(BOILER, phone="+447911123201"), sms_message(BOILER, phone="+447911123202")

    answers = [f.result(timeout=60) for f in groups.submit_many([first, other, first], actor="twilio")]
    replay = groups.submit(first, actor="twilio").result(timeout=60)

    assert groups.groups_written == 1  # the three were stored in one transaction
    assert [a.created for a in answers] == [True, True, False]
    assert answers[0].item_id == answers[2].item_id == replay.item_id != answers[1].item_id
    assert replay.created is False
    assert _count(runtime, Item) == 2
    assert _count(runtime, RawMessage) == 2
    assert _count(runtime, AuditEntry, AuditEntry.action == "received") == 2


def test_concurrent_identical_replays_store_each_message_once(runtime: Runtime) -> None:
    groups = IngestGroups(runtime)
    messages = [sms_message(f"{BOILER} ({n})", phone=f"+4479111233{n:02d}") for n in range(12)]
    deliveries = [message for message in messages for _ in range(4)]  # Twilio retrying, all at once

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers: list[IngestResult] = list(
            pool.map(lambda message: groups.submit(message, actor="twilio").result(timeout=120), deliveries)
        )

    by_sid: dict[str, set[int]] = {}
    for message, answer in zip(deliveries, answers, strict=True):
        by_sid.setdefault(message.external_id, set()).add(answer.item_id)
    assert all(len(ids) == 1 for ids in by_sid.values())  # every copy answered with the same item
    assert sum(answer.created for answer in answers) == 12  # one copy of each created it
    assert _count(runtime, Item) == 12
    assert _count(runtime, RawMessage) == 12
    assert _count(runtime, AuditEntry, AuditEntry.action == "received") == 12
    with runtime.database.session() as session:
        assert audit.verify(session).intact
        assert set(session.scalars(select(Item.status))) == {"processed"}  # each queued, and run (inline jobs)


def test_a_bad_message_in_a_group_does_not_lose_the_good_ones(runtime: Runtime) -> None:
    groups = IngestGroups(runtime)
    good = [sms_message(f"{BOILER} ({n})", phone=f"+4479111234{n:02d}") for n in range(3)]
    # Passes validation, fails when written: its details cannot be stored as JSON.
    bad = sms_message(BOILER, phone="+447911123499", metadata={"unstorable": object()})

    answers = groups.submit_many([good[0], bad, good[1], good[2]], actor="twilio")

    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises, it is this message's alone
        answers[1].result(timeout=60)
    stored = [answers[i].result(timeout=60) for i in (0, 2, 3)]
    assert groups.groups_written == 0  # the group failed and each message was stored alone
    assert all(answer.created for answer in stored)
    with runtime.database.session() as session:
        assert set(session.scalars(select(Item.external_id))) == {m.external_id for m in good}
        assert session.scalar(select(func.count()).select_from(RawMessage)) == 3
        assert audit.verify(session).intact


def test_a_webhook_whose_client_goes_away_is_still_stored_and_the_writer_carries_on(runtime: Runtime) -> None:
    groups = IngestGroups(runtime, writers=1)
    kept, abandoned, later = (sms_message(f"{BOILER} ({n})", phone=f"+4479111235{n:02d}") for n in range(3))

    async def client_gives_up() -> None:
        request = asyncio.create_task(store_or_keep(runtime, groups, abandoned, raw=b"", actor="twilio"))
        await asyncio.sleep(0)  # the message is handed to the writer
        request.cancel()  # Twilio's 15 s are up, or the server is shutting down
        with pytest.raises(asyncio.CancelledError):
            await request

    with runtime.database.session() as session:  # holds the writer up while the client gives up
        if runtime.database.engine.dialect.name == "postgresql":
            session.execute(text("LOCK TABLE items IN EXCLUSIVE MODE"))
        first = groups.submit(kept, actor="twilio")
        time.sleep(0.3)  # the writer has taken `kept` and waits for the database
        asyncio.run(client_gives_up())

    assert first.result(timeout=60).created
    assert groups.submit(later, actor="twilio").result(timeout=60).created
    expected = {kept.external_id, abandoned.external_id, later.external_id}
    deadline = time.monotonic() + 60
    while _stored_ids(runtime) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _stored_ids(runtime) == expected  # Twilio never sends an inbound text again: nothing lost


def _stored_ids(runtime: Runtime) -> set[str]:
    with runtime.database.session() as session:
        return set(session.scalars(select(Item.external_id)))


def test_a_group_is_chained_audited_marked_and_shares_contacts_as_the_orm_would(runtime: Runtime) -> None:
    from models import Contact
    from models.report_facts import ReportFactMark

    groups = IngestGroups(runtime)
    known = groups.submit(sms_message(BOILER, phone="+447911123601"), actor="twilio").result(timeout=60)
    messages = [
        sms_message(f"{BOILER} (a)", phone="+447911123601"),  # a contact known before the group
        sms_message(f"{BOILER} (b)", phone="+447911123602", sender_name="Ada Lovelace"),
        sms_message(f"{BOILER} (c)", phone="+447911123602"),  # the same new sender twice in one group
        sms_message(f"{BOILER} (d)", phone="+447911123603"),
    ]

    answers = [f.result(timeout=60) for f in groups.submit_many(messages, actor="twilio")]

    assert groups.groups_written == 1
    with runtime.database.session() as session:
        contact_of = dict(session.execute(select(Item.id, Item.contact_id)).all())
        assert contact_of[answers[0].item_id] == contact_of[known.item_id]
        assert contact_of[answers[1].item_id] == contact_of[answers[2].item_id] != contact_of[answers[3].item_id]
        assert session.scalar(select(func.count()).select_from(Contact)) == 3
        assert session.scalar(select(Contact.name).where(Contact.phone == "+447911123602")) == "Ada Lovelace"
        raws = dict(session.execute(select(RawMessage.item_id, RawMessage.content)).all())
        assert raws[answers[3].item_id] == messages[3].body.encode()
        entries = list(
            session.execute(
                select(AuditEntry.id, AuditEntry.previous_id, AuditEntry.item_id)
                .where(AuditEntry.action == "received")
                .order_by(AuditEntry.id)
            )
        )
        group_entries = [entry for entry in entries if entry.item_id in {a.item_id for a in answers}]
        assert [entry.item_id for entry in group_entries] == [a.item_id for a in answers]
        # one after another: each links to the entry just before it, none shares a predecessor
        for before, after in zip(group_entries, group_entries[1:], strict=False):
            assert after.previous_id == before.id
        assert group_entries[0].previous_id is not None and group_entries[0].previous_id < group_entries[0].id
        assert audit.verify(session).intact
        marked = set(session.scalars(select(ReportFactMark.item_id)))
        assert {a.item_id for a in answers} <= marked  # the reports recompute these items' days


def test_an_audit_entry_recorded_after_a_group_in_the_same_session_still_chains(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        audit.record_many(session, [("twilio", "received", None, {"n": 1}), ("twilio", "received", None, {"n": 2})])
        audit.record(session, actor="ada", action="signed_in")
    with runtime.database.session() as session:
        assert audit.verify(session).intact
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions[-3:] == ["received", "received", "signed_in"]
    with pytest.raises(ValueError), runtime.database.session() as session:
        audit.record_many(session, [("ada", "escalated", 1, {"reason": "free text about a resident"})])


def _postgresql_only(runtime: Runtime) -> None:
    if runtime.database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's one writer holds its lock from the look for repeats to the commit")


def test_on_postgresql_a_group_is_one_read_and_one_write(runtime: Runtime) -> None:
    _postgresql_only(runtime)
    groups = IngestGroups(runtime)
    groups.submit(sms_message(BOILER, phone="+447911123701"), actor="twilio").result(timeout=60)  # a known contact
    statements: list[str] = []
    event.listen(runtime.database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    messages = [sms_message(f"{BOILER} ({n})", phone=f"+4479111237{n:02d}") for n in range(1, 9)]

    answers = [f.result(timeout=60) for f in groups.submit_many(messages, actor="twilio")]

    assert groups.groups_written == 1
    assert all(answer.created for answer in answers)
    # Only the group's own statements: the inline jobs that ran after it read and write the items again.
    assert [statement.split()[0] for statement in statements[:2]] == ["SELECT", "WITH"]
    assert not any("INSERT INTO items" in statement for statement in statements[2:])
    assert _count(runtime, Item) == 9
    assert _count(runtime, RawMessage) == 9


def test_another_process_storing_the_same_id_between_the_look_and_the_write_leaves_one_item(
    runtime: Runtime,
) -> None:
    _postgresql_only(runtime)
    other_process = Runtime.build(runtime.settings)  # its own engine and connections, as a second `intake serve`
    raced, alone = sms_message(BOILER, phone="+447911123801"), sms_message(BOILER, phone="+447911123802")
    stored_by_the_other: list[IngestResult] = []

    def the_other_process_comes_first(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "INSERT INTO items" in statement and not stored_by_the_other:
            stored_by_the_other.append(ingest(other_process, raced, actor="twilio"))

    event.listen(runtime.database.engine, "before_cursor_execute", the_other_process_comes_first)
    groups = IngestGroups(runtime)
    try:
        answers = [f.result(timeout=60) for f in groups.submit_many([raced, alone], actor="twilio")]
    finally:
        event.remove(runtime.database.engine, "before_cursor_execute", the_other_process_comes_first)
        other_process.database.dispose()

    assert groups.groups_written == 0  # the group's write failed as a whole; each was then stored alone
    assert stored_by_the_other[0].created
    assert (answers[0].item_id, answers[0].created) == (stored_by_the_other[0].item_id, False)
    assert answers[1].created
    assert _count(runtime, Item, Item.external_id == raced.external_id) == 1
    assert _count(runtime, Item) == 2
    assert _count(runtime, RawMessage) == 2
    assert _count(runtime, AuditEntry, AuditEntry.action == "received") == 2
    with runtime.database.session() as session:
        assert audit.verify(session).intact


def test_two_processes_storing_the_same_webhooks_at_once_make_one_item_each(runtime: Runtime) -> None:
    other_process = Runtime.build(runtime.settings)
    messages = [sms_message(f"{BOILER} ({n})", phone=f"+4479111239{n:02d}") for n in range(16)]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            firsts, seconds = pool.map(
                lambda process: [
                    f.result(timeout=120) for f in IngestGroups(process).submit_many(messages, actor="twilio")
                ],
                [runtime, other_process],
            )
    finally:
        other_process.database.dispose()

    assert [a.item_id for a in firsts] == [b.item_id for b in seconds]
    assert all(a.created != b.created for a, b in zip(firsts, seconds, strict=True))  # one of the two stored it
    assert _count(runtime, Item) == 16
    assert _count(runtime, RawMessage) == 16
    assert _count(runtime, AuditEntry, AuditEntry.action == "received") == 16
    with runtime.database.session() as session:
        assert audit.verify(session).intact


@pytest.mark.postgres
@pytest.mark.redis
def test_the_two_statement_path_stores_the_rows_the_portable_path_stores(
    tmp_path: Path, postgres_url: str, redis_url: str, queue_name: str
) -> None:
    # Jobs queued, never run, on both: rq after the two statements, the database queue in the
    # portable path's transaction (which is why that runtime takes the portable path).
    two_statements = Runtime.build(make_settings(tmp_path, postgres_url, redis_url=redis_url, queue_name=queue_name))
    portable = Runtime.build(make_settings(tmp_path, postgres_url, jobs="database"))
    received = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)

    def letter(email: str) -> InboundMessage:
        return InboundMessage(
            channel="email",
            external_id=f"<{email}>",
            body="  Damp in the bedroom again.  ",
            received_at=received,
            subject="Damp",
            sender_address=email,
            sender_name="Ann  Carer",
            sender_email=email,
            sender_role="advocate",
            raw=b"Subject: Damp\r\n\r\nDamp in the bedroom again.",
            raw_content_type="message/rfc822",
            thread_keys=["<earlier@example.com>", ""],
            headers={"Auto-Submitted": "no"},
            attachments=[Attachment("photo.jpg", "image/jpeg", 3, hashlib.sha256(b"jpg").hexdigest(), b"jpg")],
            mailbox_hint="repairs",
            ack_channel="sms",
            metadata={"spf": "pass"},
            client_metadata={"ticket": 7},
        )

    try:
        [fast] = ingest_group(two_statements, [(letter("Fast@example.com"), "poller")])
        [slow] = ingest_group(portable, [(letter("Slow@example.com"), "poller")])
        with two_statements.database.session() as session:
            fast_rows, slow_rows = (_stored_rows(session, result.item_id) for result in (fast, slow))
            assert audit.verify(session).intact
            assert {fast.item_id, slow.item_id} <= set(session.scalars(select(ReportFactMark.item_id)))
        assert Redis.from_url(redis_url).exists(f"rq:job:{queue_name}-process-{fast.item_id}")
    finally:
        two_statements.database.dispose()
        portable.database.dispose()

    assert fast.created and slow.created and fast.status == slow.status == "received"
    assert fast_rows == slow_rows
    assert fast_rows["contact's email lowercased"] and fast_rows["attachments"]


def _stored_rows(session: Session, item_id: int) -> dict[str, Any]:
    """An item's rows, without what differs between two items of different senders by design."""

    def without(row: Any, *names: str) -> dict[str, Any]:
        return {key: value for key, value in row._mapping.items() if key not in names}

    item = session.execute(select(Item.__table__).where(Item.id == item_id)).one()
    contact = session.execute(select(Contact.__table__).where(Contact.id == item.contact_id)).one()
    raw = session.execute(select(RawMessage.__table__).where(RawMessage.item_id == item_id)).one()
    attachments = session.execute(select(AttachmentRow.__table__).where(AttachmentRow.item_id == item_id)).all()
    entry = session.execute(select(AuditEntry.__table__).where(AuditEntry.item_id == item_id)).one()
    return {
        "item": without(item, "id", "external_id", "created_at", "updated_at", "contact_id", "sender_address"),
        "contact": without(contact, "id", "email", "created_at"),
        "contact's email lowercased": contact.email == contact.email.lower(),
        "raw": without(raw, "id", "item_id", "received_at"),
        "attachments": [without(row, "id", "item_id") for row in attachments],
        "audit": (entry.actor, entry.action, sorted(entry.details), entry.details["channel"]),
    }


@pytest.mark.postgres
def test_jobs_redis_refuses_after_the_write_leave_the_group_stored_answered_and_for_the_sweep(
    tmp_path: Path, postgres_url: str
) -> None:
    # Nothing listens on port 1: every Redis command fails, after the group's write has committed.
    runtime = Runtime.build(make_settings(tmp_path, postgres_url, redis_url="redis://127.0.0.1:1/0"))
    groups = IngestGroups(runtime)
    messages = [sms_message(f"{BOILER} ({n})", phone=f"+4479111240{n:02d}") for n in range(3)]
    try:
        answers = [f.result(timeout=60) for f in groups.submit_many(messages, actor="twilio")]
        stored = _count(runtime, Item, Item.status == "received")
        with runtime.database.session() as session:
            intact = audit.verify(session).intact
    finally:
        runtime.database.dispose()

    # The group raised after its commit; one by one, each is then found stored (a 200 either way).
    assert len({answer.item_id for answer in answers}) == 3
    assert stored == 3 and intact  # unprocessed: the sweep queues them (stuck_after_seconds)


def test_a_writer_whose_connection_the_server_dropped_stores_the_next_group_all_the_same(runtime: Runtime) -> None:
    _postgresql_only(runtime)
    groups = IngestGroups(runtime, idle_seconds=30)  # the writer, and the connection it keeps, stay
    assert groups.submit(sms_message(BOILER, phone="+447911124101"), actor="twilio").result(timeout=60).created
    with runtime.database.engine.connect() as connection:  # as a PostgreSQL restart would
        dropped = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    assert dropped

    later = [sms_message(f"{BOILER} ({n})", phone=f"+4479111241{n:02d}") for n in range(2, 4)]
    answers = [f.result(timeout=60) for f in groups.submit_many(later, actor="twilio")]
    again = [f.result(timeout=60) for f in groups.submit_many(later, actor="twilio")]

    assert all(answer.created for answer in answers)  # the group failed on the dropped connection, then one by one
    assert [a.item_id for a in again] == [a.item_id for a in answers] and not any(a.created for a in again)
    assert _count(runtime, Item) == 3
    with runtime.database.session() as session:
        assert audit.verify(session).intact


def test_a_process_that_stores_webhooks_hands_the_gil_to_its_writer_within_half_a_millisecond(
    runtime: Runtime,
) -> None:
    original = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default
    try:
        IngestGroups(runtime).submit(sms_message(BOILER, phone="+447911123991"), actor="twilio").result(timeout=60)
        assert sys.getswitchinterval() <= GIL_SWITCH_SECONDS == 0.0005
    finally:
        sys.setswitchinterval(original)


def test_the_served_app_leaves_what_start_up_built_out_of_the_collectors_passes(runtime: Runtime) -> None:
    import gc

    from intake.app import app_factory

    gc.unfreeze()
    try:
        app_factory()  # `intake serve` builds its app this way, with `runtime` as the process's runtime
        assert gc.get_freeze_count() > 0  # no full collection walks the model, metadata and routes again
    finally:
        gc.unfreeze()
