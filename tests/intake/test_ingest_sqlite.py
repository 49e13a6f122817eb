"""The embedded default's request path (intake/ingest_sqlite.py): a group of webhooks is one read and
one INSERT a table on the driver's cursor, and it stores exactly the rows SQLAlchemy's Core path
stores — the same contacts, items, raw bytes, attachments, audit chain, report marks and jobs."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from channels.message import Attachment, InboundMessage
from intake import audit
from intake.clock import FixedClock
from intake.ingest_sqlite import _LOOK
from intake.pipeline import _store_new, ingest, ingest_group
from intake.queueing import DatabaseQueue
from intake.runtime import Runtime
from models import Item
from tests.conftest import make_settings
from tests.factories import email_message, sms_message

BOILER = "The boiler has stopped again and there is no hot water for the children. Please send someone."
MOMENT = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
TABLES = ("contacts", "items", "raw_messages", "attachments", "audit_log", "report_fact_marks", "job_queue")


@pytest.fixture
def embedded(tmp_path: Path, _sqlite_template: Path) -> Iterator[Any]:
    """Build runtimes as `intake serve` does on a bare machine: SQLite and the database queue."""
    built: list[Runtime] = []

    def build(name: str) -> Runtime:
        path = tmp_path / f"{name}.db"
        shutil.copy(_sqlite_template, path)
        runtime = Runtime.build(make_settings(tmp_path / name, f"sqlite:///{path}", jobs="database"))
        runtime.clock = FixedClock(MOMENT)
        built.append(runtime)
        return runtime

    yield build
    for runtime in built:
        runtime.database.dispose()


def _rows(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row of the request path's tables, as SQLite holds them (its own text forms)."""
    path = runtime.settings.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in TABLES}


def _a_varied_group() -> list[tuple[InboundMessage, str]]:
    photo = b"\x89PNG\r\n\x1a\n not really a photo"
    with_attachment = email_message(
        "Photo of the mould attached.",
        sender="Known.Resident@example.com",
        attachments=[Attachment("mould.png", "image/png", len(photo), hashlib.sha256(photo).hexdigest(), photo)],
        thread_keys=["<earlier@example.com>"],
        headers={"In-Reply-To": "<earlier@example.com>"},
    )
    text = sms_message(BOILER, phone="+447911123951", raw=b"Body=boiler&From=%2B447911123951")
    no_sender = InboundMessage(channel="web_form", external_id="form-77", body="Anonymous report of a leak.")
    return [(with_attachment, "imap"), (text, "twilio"), (text, "twilio"), (no_sender, "web")]


def test_a_group_stores_exactly_the_rows_the_core_path_stores(embedded: Any) -> None:
    driver, core = embedded("driver"), embedded("core")
    # A contact known by email without a name: the group's message fills it in (an UPDATE).
    first_letter = email_message("First letter.", sender="known.resident@example.com", sender_name="")
    for runtime in (driver, core):
        ingest(runtime, first_letter, actor="imap")
    group = _a_varied_group()

    answers = ingest_group(driver, group)
    with core.database.session() as session:
        _store_new(core, session, [group[0], group[1], group[3]])  # Core's path: no repeats to look for

    assert [a.created for a in answers] == [True, True, False, True]
    assert answers[1].item_id == answers[2].item_id
    stored, expected = _rows(driver), _rows(core)
    for table in TABLES:
        assert stored[table] == expected[table], table
    assert len(stored["items"]) == 4 and len(stored["attachments"]) == 1 and len(stored["job_queue"]) == 4
    with driver.database.session() as session:
        assert audit.verify(session).intact


def test_a_group_is_one_read_and_one_insert_a_table(embedded: Any) -> None:
    runtime = embedded("statements")
    ingest(runtime, sms_message(BOILER, phone="+447911123961"), actor="twilio")  # a known contact
    statements: list[str] = []

    def trace(dbapi_connection: sqlite3.Connection, _record: object, _proxy: object) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(runtime.database.engine, "checkout", trace)
    messages = [(sms_message(f"{BOILER} ({n})", phone=f"+4479111239{n:02d}"), "twilio") for n in range(62, 70)]
    ingest_group(runtime, messages)

    reads = [s for s in statements if s.lstrip().startswith("SELECT")]
    inserts = {s.split("(")[0].strip() for s in statements if s.startswith("INSERT")}
    assert len(reads) == 1  # the look: repeats, contacts, highest ids and the audit head at once
    assert inserts == {
        f"INSERT INTO {table}"
        for table in ("contacts", "items", "raw_messages", "audit_log", "report_fact_marks", "job_queue")
    }
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    with runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 9


def test_the_look_stays_on_its_indexes(embedded: Any) -> None:
    runtime = embedded("plan")
    path = runtime.settings.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as connection:
        plan = "\n".join(
            row[-1]
            for row in connection.execute(
                f"EXPLAIN QUERY PLAN {_LOOK}",
                {"channels": '["sms"]', "external_ids": '["SM1"]', "emails": '["a@example.com"]', "phones": '["+447911123970"]'},
            )
        )
    assert "SEARCH items USING INDEX sqlite_autoindex_items_1 (channel=? AND external_id=?)" in plan
    assert "SEARCH contacts USING INDEX ix_contacts_email (email=?)" in plan
    assert "SEARCH contacts USING INDEX ix_contacts_phone (phone=?)" in plan
    assert "SCAN items" not in plan and "SCAN contacts" not in plan


def test_a_refused_row_rolls_the_whole_group_back_and_is_raised_as_an_integrity_error(embedded: Any) -> None:
    runtime = embedded("refused")
    path = runtime.settings.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as connection:  # a constraint the group's last table breaks
        connection.execute(
            "CREATE TRIGGER refuse_jobs BEFORE INSERT ON job_queue BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    messages = [(sms_message(BOILER, phone=f"+4479111239{n}"), "twilio") for n in (71, 72)]
    before = _rows(runtime)

    with pytest.raises(IntegrityError):
        ingest_group(runtime, messages)

    assert _rows(runtime) == before  # nothing of it: not an item without its job
    assert isinstance(runtime.jobs, DatabaseQueue)
    with runtime.database.session() as session:  # and the writer's turn was given back
        session.execute(select(func.count()).select_from(Item))
