"""The Model versions page for a manager: measures in words, a retraining that shows it is running, and
a rejected version used only after a confirmation that is recorded."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake import audit
from intake.runtime import Runtime
from models import AuditEntry
from tests.web.conftest import signed_in, staff_post, with_a_rejected_version


def test_a_version_the_quality_check_rejected_needs_a_confirmation_and_the_override_is_recorded(
    client: TestClient, runtime: Runtime, tmp_path: Path, trained_model_dir: Path
) -> None:
    from classifier import ModelRegistry

    current, rejected = with_a_rejected_version(runtime, tmp_path, trained_model_dir)
    signed_in(client, runtime, "ada", "admin")
    registry = ModelRegistry(runtime.settings.model_dir)

    page = client.get("/staff/models").text
    assert "The quality check rejected this version" in page

    unconfirmed = staff_post(client, "/staff/models", "/staff/models/promote", {"version": rejected})
    assert unconfirmed.status_code == 303 and registry.current_version() == current
    assert "Tick the box to confirm" in client.get("/staff/models").text

    confirmed = staff_post(client, "/staff/models", "/staff/models/promote",
                           {"version": rejected, "confirm_rejected": "yes"})
    assert confirmed.status_code == 303 and registry.current_version() == rejected
    with runtime.database.session() as session:
        override = session.scalars(select(AuditEntry).where(AuditEntry.action == "model_gate_overridden")).one()
        assert override.actor == "ada" and override.details["version"] == rejected


def test_measures_are_named_in_words_and_a_running_retraining_says_so(
    client: TestClient, runtime: Runtime, tmp_path: Path, trained_model_dir: Path
) -> None:
    with_a_rejected_version(runtime, tmp_path, trained_model_dir)
    with runtime.database.session() as session:
        audit.record(session, actor="ada", action="retrain_scheduled")
    signed_in(client, runtime, "ada", "admin")

    page = client.get("/staff/models").text

    assert "cv type macro f1" not in page.lower()
    assert "Type right" in page
    assert "Retraining is running" in page and "asked for by ada" in page
