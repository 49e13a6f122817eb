"""Fewer statements per unit of work (issue 14): a session's audit entries link to its own last
written entry without a query, the reports' fact marks are written once, at commit, and a worker's
batch writes each table in one statement while deciding every item as one at a time would."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select

from intake import audit
from intake.acknowledgements import ReadyToSend, _render_inputs, _rendered_for, send_acknowledgements
from intake.pipeline import ingest, process_items
from intake.runtime import Runtime
from models import Acknowledgement, AuditEntry, Deadline, Item, ReportFactMark
from tests.factories import email_message, sms_message


def _statements(runtime: Runtime) -> list[str]:
    seen: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(runtime.database.engine, "before_cursor_execute", keep)
    return seen


def _processed_both_ways(runtime: Runtime, together: list[int], one_by_one: list[int]) -> list[str]:
    """`together` processed as one batch and `one_by_one` item after item, which must decide alike;
    returns the SQL statements the batch ran."""
    seen = _statements(runtime)
    process_items(runtime, together)
    batch_statements = list(seen)
    for item_id in one_by_one:
        process_items(runtime, [item_id])
    assert _outcome(runtime, together) == _outcome(runtime, one_by_one)
    return batch_statements


def test_entries_recorded_in_one_transaction_link_to_each_other_and_the_chain_verifies(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        audit.record(session, actor="tina", action="signed_in")
    seen = _statements(runtime)
    with runtime.database.session() as session:
        for n in range(5):
            audit.record(session, actor="worker", action="tested", n=n)
            session.flush()  # as a worker's batch does between its steps
    head_reads = [s for s in seen if s.startswith("select audit_log.id, audit_log.chain_hash")]
    assert len(head_reads) == 1  # the first entry reads the head; the others link to their own predecessor
    with runtime.database.session() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [entry.previous_id for entry in entries[1:]] == [entry.id for entry in entries[:-1]]
        result = audit.verify(session)
    assert result.intact and result.checked == 6


def test_entries_recorded_between_two_flushes_are_linked_in_order_and_written_together(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        audit.record(session, actor="tina", action="signed_in")
    seen = _statements(runtime)
    with runtime.database.session() as session:
        for n in range(5):
            audit.record(session, actor="worker", action="tested", n=n)  # as a batch of acknowledgements does
    with runtime.database.session() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        result = audit.verify(session)
    assert result.intact and result.checked == 6
    # PostgreSQL: ids taken from the sequence for all five at once, each entry linked to the one
    # before it. (SQLite links them all to the head it read, which verify also accepts.)
    if runtime.database.engine.dialect.name == "postgresql":
        assert [entry.previous_id for entry in entries[1:]] == [entry.id for entry in entries[:-1]]
        assert sum(s.startswith("select audit_log.id, audit_log.chain_hash") for s in seen) == 1
        assert sum(s.startswith("insert into audit_log") for s in seen) == 1
        assert sum("nextval" in s for s in seen) == 1


def test_an_entry_rolled_back_is_never_linked_to(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        audit.record(session, actor="tina", action="signed_in")
    session = runtime.database.sessionmaker()
    try:
        audit.record(session, actor="worker", action="lost")
        session.flush()
        session.rollback()
        audit.record(session, actor="worker", action="kept")
        session.commit()
    finally:
        session.close()
    with runtime.database.session() as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        result = audit.verify(session)
    assert actions == ["signed_in", "kept"]
    assert result.intact, result.problems


def test_fact_marks_are_written_once_per_transaction_and_not_after_a_rollback(runtime: Runtime) -> None:
    from datetime import UTC, datetime

    def new_item(n: int) -> Item:
        return Item(channel="sms", external_id=f"SM-marks-{n}", received_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
                    body="The boiler is broken", status="received", case_status="open")

    seen = _statements(runtime)
    with runtime.database.session() as session:
        for n in range(3):
            session.add(new_item(n))
            session.flush()
    assert sum(s.startswith("insert into report_fact_marks") for s in seen) == 1
    session = runtime.database.sessionmaker()
    try:
        session.add(new_item(10))
        session.flush()
        session.rollback()
        session.add(new_item(11))
        session.commit()
        ids = {row.id for row in session.scalars(select(Item).where(Item.external_id.like("SM-marks-%")))}
    finally:
        session.close()
    with runtime.database.session() as session:
        marked = set(session.scalars(select(ReportFactMark.item_id).where(ReportFactMark.item_id.is_not(None))))
        assert session.scalar(select(func.count()).select_from(Item)) == len(ids) == 4
    assert ids <= marked
    assert len(marked - ids) == 0  # the rolled-back item's mark was never written


# --- a worker's batch: each table written in one statement, with the outcome of one at a time ----------



def test_a_batch_writes_its_classification_runs_deadlines_and_item_updates_in_one_statement_each(queued_runtime: Runtime) -> None:
    bodies = [
        "The lift in Cedar House has been broken for two weeks and nobody has fixed it.",
        "I want to make a formal complaint about how my repair was handled.",
        "There is black mould spreading across the bedroom wall and my baby is coughing.",
        "My kitchen tap is dripping all night.",
    ]
    ids = [ingest(queued_runtime, email_message(body, sender=f"b{n}@example.com")).item_id for n, body in enumerate(bodies)]
    seen = _statements(queued_runtime)
    process_items(queued_runtime, ids)
    if queued_runtime.database.engine.dialect.name == "postgresql":  # SQLite's driver inserts row by row
        assert sum(s.startswith("insert into classification_runs") for s in seen) == 1
        assert sum(s.startswith("insert into deadlines") for s in seen) == 1
        # A complaint writes its stage, the lift its flags, the mould its hazards: one UPDATE still.
        assert sum(s.startswith("update items") for s in seen) == 1
    with queued_runtime.database.session() as session:
        assert set(session.scalars(select(Item.status).where(Item.id.in_(ids)))) == {"processed"}
        assert session.scalar(select(func.count()).select_from(Acknowledgement)) == 4


def _outcome(runtime: Runtime, ids: list[int]) -> list[tuple[object, ...]]:
    """What processing decided for these items, in terms that do not depend on their ids."""
    with runtime.database.session() as session:
        items = list(session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id)))
        position = {item.id: n for n, item in enumerate(items)}
        outcome: list[tuple[object, ...]] = []
        for item in items:
            letters = session.execute(
                select(Acknowledgement.purpose, Acknowledgement.channel, Acknowledgement.status)
                .where(Acknowledgement.item_id == item.id)
                .order_by(Acknowledgement.id)
            ).all()
            actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.item_id == item.id).order_by(AuditEntry.id)))
            outcome.append((
                item.status, item.case_status, position.get(item.case_id) if item.case_id else None, item.queue,
                item.suppress_acknowledgement_reason is not None, [tuple(letter) for letter in letters], actions,
            ))
    return outcome


@pytest.mark.parametrize(
    "texts",
    [
        # A follow-up joins the case its first text opened earlier in the same batch.
        ["The boiler has stopped working and we have no heating.", "Still no heating, please send someone today."],
        # STOP after a text: the text's acknowledgement is planned as it was before the opt-out.
        ["The boiler has stopped working and we have no heating.", "STOP"],
    ],
    ids=["follow_up", "stop"],
)
def test_a_batch_decides_each_item_as_one_after_another_would(queued_runtime: Runtime, texts: list[str]) -> None:
    def ingest_texts(phone: str) -> list[int]:
        return [
            ingest(queued_runtime, _text(body, phone, minute)).item_id for minute, body in enumerate(texts)
        ]

    together = ingest_texts("+447911123456")
    one_by_one = ingest_texts("+447911123457")
    _processed_both_ways(queued_runtime, together, one_by_one)
    first, second = _outcome(queued_runtime, together)
    # The case's one receipt: a follow-up (or a STOP) gets none of its own. (Whether the follow-up
    # also makes the case a complaint, with that letter, is the model's call, not batching's.)
    assert [letter for letter in first[5] if letter[0] == "received"] == [("received", "sms", "pending")]
    assert [letter for letter in second[5] if letter[2] != "suppressed"] == []


def _text(body: str, phone: str, minute: int) -> Any:
    from datetime import UTC, datetime

    from channels.sms_keywords import keyword_of

    keyword = keyword_of(body)
    return sms_message(
        body,
        phone=phone,
        received_at=datetime(2026, 12, 1, 9, minute, tzinfo=UTC),
        metadata={"sms_keyword": keyword} if keyword else {},
    )


def test_a_batch_counts_its_own_earlier_acknowledgements_towards_a_senders_daily_limit(queued_runtime: Runtime) -> None:
    limit = queued_runtime.settings.max_acknowledgements_per_sender_per_day
    bodies = [f"Please send me a copy of letter {number}." for number in range(limit + 2)]

    def ingest_emails(sender: str) -> list[int]:
        return [ingest(queued_runtime, email_message(body, sender=sender)).item_id for body in bodies]

    together = ingest_emails("busy@example.com")
    one_by_one = ingest_emails("busier@example.com")
    batch_statements = _processed_both_ways(queued_runtime, together, one_by_one)
    with queued_runtime.database.session() as session:
        statuses = list(
            session.scalars(
                select(Acknowledgement.status).where(Acknowledgement.item_id.in_(together)).order_by(Acknowledgement.item_id)
            )
        )
    assert statuses == ["pending"] * limit + ["suppressed"] * 2
    if queued_runtime.database.engine.dialect.name == "postgresql":  # SQLite writes 4 items a transaction
        # Planned together: every recipient's count read once, the rows written in one statement.
        assert sum("count(acknowledgements.id)" in s for s in batch_statements) == 1
        assert sum(s.startswith("insert into acknowledgements") for s in batch_statements) == 1


def test_a_number_that_sent_stop_in_an_earlier_batch_is_not_texted_and_falls_back_to_email(queued_runtime: Runtime) -> None:
    phone = "+447911123458"
    stop = ingest(queued_runtime, _text("STOP", phone, 0)).item_id
    process_items(queued_runtime, [stop])
    texts = [ingest(queued_runtime, _text("The boiler has stopped working.", phone, 1)).item_id]
    texts.append(ingest(queued_runtime, _text("My kitchen tap is dripping.", "+447911123459", 2)).item_id)
    process_items(queued_runtime, texts)
    with queued_runtime.database.session() as session:
        letters = session.execute(
            select(Acknowledgement.recipient, Acknowledgement.status, Acknowledgement.last_error)
            .where(Acknowledgement.item_id.in_(texts))
            .order_by(Acknowledgement.item_id)
        ).all()
    assert letters[0][:2] == (phone, "suppressed") and "opted out" in (letters[0][2] or "")
    assert letters[1][:2] == ("+447911123459", "pending")


def test_a_follow_up_text_finds_its_case_opened_earlier_in_the_batch_past_another_senders_text(
    queued_runtime: Runtime,
) -> None:
    texts = [
        ("The boiler has stopped working and we have no heating.", 0),
        ("My kitchen tap is dripping all night.", 1),
        ("Still no heating, please send someone today.", 0),
    ]

    def ingest_texts(phones: tuple[str, str]) -> list[int]:
        return [
            ingest(queued_runtime, _text(body, phones[sender], minute)).item_id
            for minute, (body, sender) in enumerate(texts)
        ]

    together = ingest_texts(("+447911123460", "+447911123461"))
    one_by_one = ingest_texts(("+447911123462", "+447911123463"))
    _processed_both_ways(queued_runtime, together, one_by_one)
    outcome = _outcome(queued_runtime, together)
    assert outcome[2][2] == 0 and outcome[1][2] is None  # the follow-up joined the boiler's case


def test_a_batch_looks_up_earlier_texts_only_for_numbers_that_may_have_one(queued_runtime: Runtime) -> None:
    """One query finds which of a batch's numbers have an open case to follow up; only those (and a
    number that sent twice in the batch) are looked up one by one, with the same links as before."""
    texts = [
        ("Still no heating, please send someone today.", 0),  # follows up the earlier batch's case
        ("My kitchen tap is dripping all night.", 1),
        ("The lift in Cedar House is broken again.", 2),
        ("The lift is still broken, my mum cannot get out.", 2),  # follows up the text just before
    ]

    def ingest_batch(phones: tuple[str, str, str]) -> tuple[int, list[int]]:
        earlier = ingest(queued_runtime, _text("The boiler has stopped working and we have no heating.", phones[0], 0))
        process_items(queued_runtime, [earlier.item_id])
        return earlier.item_id, [
            ingest(queued_runtime, _text(body, phones[sender], minute + 1)).item_id
            for minute, (body, sender) in enumerate(texts)
        ]

    root, together = ingest_batch(("+447911123470", "+447911123471", "+447911123472"))
    other_root, one_by_one = ingest_batch(("+447911123473", "+447911123474", "+447911123475"))
    batch_statements = _processed_both_ways(queued_runtime, together, one_by_one)
    with queued_runtime.database.session() as session:
        case_ids = list(session.scalars(select(Item.case_id).where(Item.id.in_(together)).order_by(Item.id)))
    assert case_ids == [root, None, None, together[2]]
    looked_up = [s for s in batch_statements if s.startswith("select items.") and "items.sender_address =" in s]
    assert len(looked_up) == 3  # the first number's text and the lift's two, not the tap's
    assert sum(s.startswith("select distinct items.sender_address") for s in batch_statements) == 1


def test_a_worker_whose_item_another_holds_processes_a_batch_further_down_first(queued_runtime: Runtime) -> None:
    """Several workers on one queue (issue 14's ×2/×4 runs): items another worker's batch holds are
    neither waited for first nor taken along, nor is a later text from the same number (it waits
    for the one it may follow up); the rest go as one batch, then our own item is waited for."""
    if queued_runtime.database.engine.dialect.name != "postgresql":
        pytest.skip("row locks: SQLite has one writer and no SKIP LOCKED")
    from sqlalchemy import text

    phones = [f"+4479111235{n:02d}" for n in range(8)]
    bodies = ["My kitchen tap is dripping all night."] * 8
    ids = [ingest(queued_runtime, _text(body, phone, n)).item_id for n, (body, phone) in enumerate(zip(bodies, phones, strict=True))]
    # A follow-up from the number of an item the other worker holds (ids[1]).
    ids.append(ingest(queued_runtime, _text("Still dripping, please come.", phones[1], 9)).item_id)
    own, held_by_other = ids[0], ids[:2]
    other_worker = queued_runtime.database.engine.connect()
    transaction = other_worker.begin()
    other_worker.execute(text("SELECT id FROM items WHERE id = ANY(:ids) FOR UPDATE"), {"ids": held_by_other})
    committed: list[tuple[list[int], int]] = []

    def release_after_our_batch(taken: list[int], acknowledgements: list[int], ready: object) -> None:
        committed.append((taken, len(acknowledgements)))
        transaction.rollback()  # the other worker "died": its items are still `received`
        other_worker.close()

    taken = process_items(queued_runtime, [own], also=ids[1:], on_committed=release_after_our_batch)
    assert committed == [(ids[2:8], 6)]  # not ids[1] (held) nor ids[8] (its number's earlier text is held)
    assert taken == ids[2:8]
    with queued_runtime.database.session() as session:
        status = {row.id: row.status for row in session.execute(select(Item.id, Item.status).where(Item.id.in_(ids)))}
    # Our own item, waited for after the batch, was processed here; the others' stay for their jobs.
    assert [status[i] for i in ids] == ["processed"] + ["received"] + ["processed"] * 6 + ["received"]


# --- a worker's batch of sent acknowledgements: the deadlines they meet, in a statement or two -----------


def _deadlines_of(runtime: Runtime, ids: list[int]) -> list[list[tuple[object, ...]]]:
    """Each item's deadline rows, current and superseded, in terms that depend on neither ids nor clocks."""
    with runtime.database.session() as session:
        rows = session.execute(
            select(Deadline.item_id, Deadline.kind, Deadline.stage, Deadline.due_at, Deadline.met_at, Deadline.superseded_at)
            .where(Deadline.item_id.in_(ids))
            .order_by(Deadline.item_id, Deadline.id)
        ).all()
    return [
        [(row.kind, row.stage, row.due_at, row.met_at is not None, row.superseded_at is not None) for row in rows if row.item_id == item_id]
        for item_id in ids
    ]


def test_a_batch_of_sent_acknowledgements_meets_and_recomputes_dates_as_sending_one_at_a_time_would(
    queued_runtime: Runtime,
) -> None:
    bodies = [
        "I want to make a formal complaint about how my repair was handled.",
        "This is a formal complaint: nobody came to fix the leak after three visits were booked.",
        "My kitchen tap is dripping all night.",
        "I wish to complain formally about the rude way your officer spoke to me.",
    ]

    def processed(prefix: str) -> tuple[list[int], list[int]]:
        """(the items, their pending acknowledgements) of `bodies` from senders named after `prefix`."""
        ids = [ingest(queued_runtime, email_message(body, sender=f"{prefix}{n}@example.com")).item_id for n, body in enumerate(bodies)]
        process_items(queued_runtime, ids)
        with queued_runtime.database.session() as session:
            letters = session.scalars(
                select(Acknowledgement.id)
                .where(Acknowledgement.item_id.in_(ids), Acknowledgement.status == "pending")
                .order_by(Acknowledgement.id)
            )
            return ids, list(letters)

    together, together_letters = processed("batch")
    one_by_one, single_letters = processed("single")
    with queued_runtime.database.session() as session:
        complaints = session.scalar(
            select(func.count()).select_from(Item).where(Item.id.in_(together), Item.complaint_stage.is_not(None))
        )
    assert (complaints or 0) >= 2 and len(together_letters) == len(bodies)  # the case this test is about
    seen = _statements(queued_runtime)
    assert not send_acknowledgements(queued_runtime, together_letters).failed
    batch_statements = list(seen)
    for letter in single_letters:
        assert not send_acknowledgements(queued_runtime, [letter]).failed
    # Met, superseded and computed again from the acknowledgement: row for row as one at a time.
    assert _deadlines_of(queued_runtime, together) == _deadlines_of(queued_runtime, one_by_one)
    with queued_runtime.database.session() as session:
        assert audit.verify(session).intact
    if queued_runtime.database.engine.dialect.name == "postgresql":  # SQLite sends 8 a transaction
        # One UPDATE for the deadlines met, one for those superseded: not one a deadline.
        assert sum(s.startswith("update deadlines") for s in batch_statements) == 2


def _processed_for_sending(runtime: Runtime, bodies: list[str], prefix: str) -> tuple[list[int], ReadyToSend]:
    """`bodies` emailed in by senders named after `prefix` and processed as a worker's batch does:
    (the acknowledgements left to send, the messages the batch built for them before committing)."""
    ids = [ingest(runtime, email_message(body, sender=f"{prefix}{n}@example.com")).item_id for n, body in enumerate(bodies)]
    handed_over: list[tuple[list[int], ReadyToSend]] = []
    process_items(
        runtime, ids[:1], also=ids[1:], queue_acknowledgements=False,
        on_committed=lambda _taken, queued, ready: handed_over.append((queued, ready)),
    )
    [(queued, ready)] = handed_over
    return queued, ready


_LETTERS = [
    "I want to make a formal complaint about how my repair was handled.",
    "My kitchen tap is dripping all night.",
    "Thank you to the team who fixed our boiler so quickly.",
]


def test_a_batch_sends_the_letters_it_built_marking_them_in_one_statement_without_reading_them_back(
    queued_runtime: Runtime,
) -> None:
    queued, ready = _processed_for_sending(queued_runtime, _LETTERS, "ready")
    assert sorted(ready) == queued and len(queued) == len(_LETTERS)
    with queued_runtime.database.session() as session:  # built with the wording that is right now
        for row in session.scalars(select(Acknowledgement).where(Acknowledgement.id.in_(queued))):
            inputs = _render_inputs(queued_runtime, row.item, channel=row.channel, purpose=row.purpose)
            assert _rendered_for(inputs) == row.rendered_for and ready[row.id][1].body_text == row.body_text
    seen = _statements(queued_runtime)
    batch = send_acknowledgements(queued_runtime, [], also=queued, ready=ready)
    assert batch.taken == queued and not batch.failed
    assert not [s for s in seen if s.startswith("select acknowledgements.")]  # no row read back, before or after
    assert sum(s.startswith("update acknowledgements set status") for s in seen) == 2  # sending, then sent
    with queued_runtime.database.session() as session:
        rows = list(session.scalars(select(Acknowledgement).where(Acknowledgement.id.in_(queued))))
        assert {row.status for row in rows} == {"sent"} and {row.attempts for row in rows} == {1}
        for row in rows:  # each went as its row says
            assert row.body_text in (queued_runtime.settings.outbox_dir / "email" / f"{row.id:08d}.txt").read_text()
        assert audit.verify(session).intact


def test_a_letter_another_worker_has_begun_sending_is_not_sent_again_from_a_batchs_built_letters(
    queued_runtime: Runtime,
) -> None:
    queued, ready = _processed_for_sending(queued_runtime, _LETTERS, "taken")
    elsewhere = queued[1]
    with queued_runtime.database.session() as session:  # another worker got there first
        session.get_one(Acknowledgement, elsewhere).status = "sending"
    batch = send_acknowledgements(queued_runtime, [], also=queued, ready=ready)
    assert batch.taken == [ack for ack in queued if ack != elsewhere]
    assert not (queued_runtime.settings.outbox_dir / "email" / f"{elsewhere:08d}.txt").exists()
    with queued_runtime.database.session() as session:
        assert session.get_one(Acknowledgement, elsewhere).attempts == 0  # untouched by this batch
