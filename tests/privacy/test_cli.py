"""`intake privacy …` from the command line: export, refused and overridden erasure, restriction, retention, requests."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from intake.cli import app
from intake.runtime import Runtime
from models import Item
from tests.privacy.conftest import EMAIL, PHONE, STORY, Resident, close_case


def _last_json(output: str) -> dict:  # type: ignore[type-arg]
    return json.loads([line for line in output.splitlines() if line.startswith("{")][-1])


def test_export_writes_the_zip_and_lists_candidates(runtime: Runtime, resident: Resident, tmp_path: Path) -> None:
    out = tmp_path / "sar.zip"
    result = CliRunner().invoke(app, ["privacy", "export", "--email", EMAIL, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"candidate item {resident.mention_id}: mentions their name" in result.output
    assert _last_json(result.output)["items"] == 5
    data = json.loads(zipfile.ZipFile(out).read("data.json"))
    assert STORY in data["items"][0]["body"]


def test_erase_is_refused_while_the_complaint_is_open_then_done_once_closed(runtime: Runtime, resident: Resident) -> None:
    refused = CliRunner().invoke(app, ["privacy", "erase", "--phone", PHONE, "--reason", "asked by phone"])
    assert refused.exit_code == 1 and "is open" in refused.output
    close_case(runtime, resident.complaint_id)
    erased = CliRunner().invoke(app, ["privacy", "erase", "--phone", PHONE, "--reason", "asked by phone",
                                      "--include", str(resident.mention_id)])
    assert erased.exit_code == 0, erased.output
    assert _last_json(erased.output)["items"] == 6
    with runtime.database.session() as session:
        assert all(item.erased_at for item in session.scalars(select(Item).where(Item.id.in_(resident.mine))))
    requests = CliRunner().invoke(app, ["privacy", "requests"])
    assert "erase" in requests.output and "refused" in requests.output and "done" in requests.output


def test_exactly_one_identifier_is_needed(runtime: Runtime) -> None:
    result = CliRunner().invoke(app, ["privacy", "erase", "--reason", "x"])
    assert result.exit_code == 2 and "exactly one" in result.output


def test_restrict_and_retention_dry_run(runtime: Runtime, resident: Resident) -> None:
    restricted = CliRunner().invoke(app, ["privacy", "restrict", "--email", EMAIL])
    assert restricted.exit_code == 0 and _last_json(restricted.output)["items"] == 5
    dry = CliRunner().invoke(app, ["privacy", "retention"])
    assert dry.exit_code == 0 and "would anonymise" in dry.output


def test_a_request_logged_on_arrival_shows_its_due_date(runtime: Runtime) -> None:
    logged = CliRunner().invoke(app, ["privacy", "log", "--kind", "export", "--email", "x@example.com",
                                      "--received", "2027-01-31"])
    assert logged.exit_code == 0, logged.output
    listing = CliRunner().invoke(app, ["privacy", "requests"]).output
    assert "received 2027-01-31" in listing and "due 2027-02-28" in listing and "x@example.com" not in listing
