"""Nothing personal where it need not be: the audit log and the web server's access log."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from intake.privacy.logs import DropQueryStrings
from intake.privacy.notes import note_text
from intake.runtime import Runtime
from models import AuditEntry
from tests.privacy.conftest import EMAIL, NAME, NOTE, PHONE, REPLY, STORY, Resident


def test_the_audit_log_holds_ids_not_the_residents_words(runtime: Runtime, resident: Resident) -> None:
    with runtime.database.session() as session:
        entries = session.scalars(select(AuditEntry)).all()
        dumped = json.dumps([[e.actor, e.action, e.details] for e in entries])
        for personal in (NAME, EMAIL, PHONE, STORY, REPLY, NOTE):
            assert personal not in dumped
        response = next(e for e in entries if e.action == "response_recorded")
        assert note_text(session, response.details["summary"]) == REPLY  # kept, erasably, as a case note


def test_query_strings_are_withheld_from_the_access_log() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/staff/queues?q=Trelawney", "1.1", 200), None)
    assert DropQueryStrings().filter(record)
    assert "Trelawney" not in record.getMessage() and "/staff/queues?[query withheld]" in record.getMessage()
