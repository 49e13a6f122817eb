"""Erasure: afterwards no byte of the resident's name, address, number or words is anywhere we store
data — the database file or tables, the outbox, the training data — and every report counts the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text, update

from classifier import ModelRegistry
from intake.learning_loop import corrections_as_examples
from intake.privacy import service
from intake.privacy.subjects import SubjectQuery
from intake.reports.periods import parse_period
from intake.reports.service import build_view
from intake.runtime import Runtime
from models import AuditEntry, Correction, Item, PrivacyRequest
from tests.privacy.conftest import (
    CORRECTION_REASON,
    EMAIL,
    NAME,
    NOTE,
    OTHER_STORY,
    PHONE,
    PHOTO,
    REPLY,
    STORY,
    Resident,
    close_case,
)

NOW = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)
REPORTS = ("volume", "service_areas", "categories", "timeliness", "outcomes", "corrections", "tsm")
# Everything that identifies the resident, as it could be stored (JSON escapes, case, without the +).
NEEDLES = [NAME, NAME.lower(), "Trelawney", EMAIL, EMAIL.upper(), PHONE, PHONE.lstrip("+"), STORY, "Quillon",
           "QUILLON", REPLY, NOTE, CORRECTION_REASON]


def _reports(runtime: Runtime) -> dict[str, object]:
    period = parse_period("2026-Q3")
    return {name: build_view(runtime, name, period, now=NOW).rows for name in REPORTS}


def _stored_bytes(runtime: Runtime) -> bytes:
    """Every byte the database keeps: the SQLite file and its WAL, or every text/bytea/json column in PostgreSQL."""
    engine = runtime.database.engine
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database or "")
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    chunks: list[bytes] = []
    with engine.connect() as connection:
        columns = connection.execute(text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'bytea', 'json', 'jsonb')")).all()
        assert len(columns) > 40, "every text column of every table"
        for table, column, kind in columns:
            expression = f'"{column}"' if kind == "bytea" else f'convert_to("{column}"::text, \'UTF8\')'
            for (value,) in connection.execute(text(f'SELECT {expression} FROM "{table}"')):
                chunks.append(bytes(value or b""))
    return b"\n".join(chunks)


def _files(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()) if directory.exists() else b""


def _found(haystack: bytes) -> list[str]:
    return [needle for needle in NEEDLES if needle.encode() in haystack]


def test_erasure_leaves_no_trace_of_the_resident_and_reports_count_the_same(runtime: Runtime, resident: Resident) -> None:
    close_case(runtime, resident.complaint_id)
    # Before: the resident is everywhere (the test would mean nothing otherwise).
    assert set(_found(_stored_bytes(runtime))) >= {NAME, EMAIL, PHONE, STORY, REPLY, NOTE}
    assert _found(_files(runtime.settings.outbox_dir)), "acknowledgements went to the outbox"
    assert any(NAME in e.body for e in corrections_as_examples(runtime))
    before = _reports(runtime)

    result = service.erase_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW,
                                   reason="resident asked by letter", confirm=[resident.mention_id])

    assert result.done and not result.retrain_needed and result.counts["storage_compacted"]
    assert result.counts["items"] == 6 and result.counts["attachments"] == 1 and result.counts["contacts"] >= 1
    assert _found(_stored_bytes(runtime)) == []
    assert _found(_files(runtime.settings.outbox_dir)) == []
    assert _found(_files(runtime.settings.model_dir)) == []
    assert all(NAME not in e.body and STORY not in e.body for e in corrections_as_examples(runtime))
    assert PHOTO not in _stored_bytes(runtime)
    assert _reports(runtime) == before
    # Someone else's data is untouched, and the audit log says what happened in ids and counts only.
    assert OTHER_STORY.encode() in _stored_bytes(runtime)
    with runtime.database.session() as session:
        erased = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy_erased")).one()
        assert erased.details["items"] == 6 and erased.details["request_id"] == result.request_id
        item = session.get(Item, resident.complaint_id)
        assert item is not None and item.body == "[erased]" and item.erased_at == NOW
        assert (item.type, item.outcome, item.case_status) == ("complaint", "upheld", "closed")


def test_an_open_complaint_refuses_erasure_with_the_reason_until_an_admin_overrides(
    runtime: Runtime, resident: Resident
) -> None:
    refused = service.erase_subject(runtime, SubjectQuery(phone=PHONE), actor="dpo", now=NOW, reason="asked")
    assert not refused.done
    with runtime.database.session() as session:
        reference = session.get(Item, resident.complaint_id).reference  # type: ignore[union-attr]
        request = session.get(PrivacyRequest, refused.request_id)
        assert refused.refused == [f"complaint {reference} is open"]
        assert (request.status, request.refusal) == ("refused", f"complaint {reference} is open")  # type: ignore[union-attr]
    assert STORY.encode() in _stored_bytes(runtime)  # nothing was touched

    overridden = service.erase_subject(runtime, SubjectQuery(phone=PHONE), actor="dpo", now=NOW, reason="asked",
                                       override="court order of 1 August")
    assert overridden.done and overridden.counts["override_reason"] == "court order of 1 August"
    assert overridden.counts["overridden"] == [f"complaint {reference} is open"]


def test_a_legal_hold_refuses_erasure(runtime: Runtime, resident: Resident) -> None:
    close_case(runtime, resident.complaint_id)
    service.set_legal_hold(runtime, resident.follow_up_id, actor="dpo", reason="disrepair claim")
    refused = service.erase_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW, reason="asked")
    assert len(refused.refused) == 1 and refused.refused[0].endswith("disrepair claim")


def test_erasure_says_a_retrain_is_needed_when_a_model_learned_from_their_corrections(
    runtime: Runtime, resident: Resident
) -> None:
    close_case(runtime, resident.complaint_id)
    version = ModelRegistry(runtime.settings.model_dir).current_version()
    with runtime.database.session() as session:
        session.execute(update(Correction).values(trained_in_version=version))
    result = service.erase_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW, reason="asked")
    assert result.retrain_needed and result.counts["model_versions_to_retrain"] == [version]


def test_restriction_hides_and_lifting_shows_again(runtime: Runtime, resident: Resident) -> None:
    _, changed = service.restrict_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW)
    assert changed == 5
    with runtime.database.session() as session:
        assert session.get(Item, resident.sms_id).restricted_at == NOW  # type: ignore[union-attr]
        assert session.get(Item, resident.other_id).restricted_at is None  # type: ignore[union-attr]
    service.restrict_subject(runtime, SubjectQuery(email=EMAIL), actor="dpo", now=NOW, lift=True)
    with runtime.database.session() as session:
        assert session.get(Item, resident.sms_id).restricted_at is None  # type: ignore[union-attr]
