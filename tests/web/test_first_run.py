"""A first run that explains itself: a front page, sign-in guidance before any account exists, the
landlord's own details in letters, and paths that do not depend on where the server was started."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from intake.cli import _print_addresses
from intake.runtime import Runtime
from intake.settings import Settings
from tests.web.conftest import add_user, signed_in
from triage_rules.acknowledgement_wording import render_acknowledgement
from triage_rules.deadlines import compute_deadlines
from triage_rules.working_days import WorkingCalendar


def test_the_front_page_links_the_contact_form_and_the_staff_sign_in(client: TestClient) -> None:
    page = client.get("/")

    assert page.status_code == 200
    assert 'href="/contact"' in page.text
    assert 'href="/staff/login"' in page.text
    assert "999" in page.text  # emergency advice before anything else a resident might need


def test_before_any_account_exists_the_sign_in_page_says_how_to_create_the_first_admin(
    client: TestClient, runtime: Runtime
) -> None:
    assert "intake users add" in client.get("/staff/login").text

    add_user(runtime, "aisha", "admin")

    assert "intake users add" not in client.get("/staff/login").text


def test_the_staff_sign_in_page_carries_the_workspace_name_not_the_residents_branding(
    client: TestClient,
) -> None:
    page = client.get("/staff/login").text

    assert "Triage workspace" in page
    assert "Contact your landlord" not in page


def test_the_landlords_own_details_replace_the_policy_examples_in_letters(
    tmp_path: Path, runtime: Runtime
) -> None:
    settings = runtime.settings.model_copy(
        update={
            "landlord": runtime.settings.landlord.model_validate(
                {"name": "Riverside Homes", "phone": "0300 123 4567", "email": "help@riverside.example"}
            )
        }
    )
    policy = Runtime.build(settings).policy
    received = datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("Europe/London"))
    deadlines = compute_deadlines(
        policy, item_type="complaint", stage="stage_1", received_at=received, flags=[], hazards=[],
        calendar=WorkingCalendar("england"),
    )

    letter = render_acknowledgement(
        channel="email", item_type="complaint", reference="CMP-2026-000001", flags=[], deadlines=deadlines,
        policy=policy, recipient_name="Sam Jones", stage="stage_1",
    )

    assert "Riverside Homes" in letter.text
    assert "0300 123 4567" in letter.text


def test_a_landlord_phone_number_that_is_not_one_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="not a phone number"):
        Settings(_env_file=None, landlord={"phone": "call us"})  # type: ignore[arg-type]


def test_relative_folders_are_found_from_the_installation_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None, home=tmp_path / "install", outbox_dir=Path("var/outbox"))  # type: ignore[call-arg]

    assert settings.outbox_dir == (tmp_path / "install" / "var" / "outbox").resolve()
    assert settings.database_url == f"sqlite:///{(tmp_path / 'install').resolve()}/var/intake.db"


def test_the_settings_page_shows_the_landlord_details_and_outbox_folder(
    client: TestClient, runtime: Runtime
) -> None:
    page = signed_in(client, runtime, "root", "admin").get("/staff/settings").text

    assert str(runtime.settings.outbox_dir) in page
    assert runtime.policy.landlord_name in page


def test_serve_prints_where_to_go_and_how_to_create_the_first_admin(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    _print_addresses("0.0.0.0", 8123)

    printed = capsys.readouterr()
    output = printed.out + printed.err
    assert "http://127.0.0.1:8123/staff/login" in output
    assert "http://127.0.0.1:8123/contact" in output
    assert "intake users add" in output
