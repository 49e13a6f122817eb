"""`intake report` prints the same figures as the pages, as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from intake.cli import app

runner = CliRunner()


def test_json_for_one_view(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["report", "--period", "2026-Q3", "--format", "json", "--view", "tsm"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["period"] == "2026-Q3"
    rows = {row["measure"]: row for row in document["views"][0]["rows"]}
    assert rows["CH01 stage 1"]["count"] == 12
    assert rows["CH02 stage 1"]["result"] == 70.0


def test_csv_for_one_view_is_a_plain_table(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["report", "--period", "2026-Q3", "--format", "csv", "--view", "categories"])

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["Category", "Complaints", "Share of complaints"]
    assert ["delay", "6", "0.5455"] in rows


def test_all_views_to_a_directory(report_runtime, fixed_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app,
        [
            "report",
            "--period",
            "FY2026-27-Q2",
            "--format",
            "csv",
            "--output",
            str(tmp_path / "out"),
            "--board",
            str(tmp_path / "board.html"),
        ],
    )

    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "tsm-FY2026-27-Q2.csv" in names and "overdue-now.csv" in names and len(names) == 8
    assert "CH01 stage 1" in (tmp_path / "board.html").read_text()


def test_a_bad_period_or_view_is_an_error_not_a_traceback(report_runtime) -> None:  # type: ignore[no-untyped-def]
    bad_period = runner.invoke(app, ["report", "--period", "last quarter"])
    bad_view = runner.invoke(app, ["report", "--period", "2026-Q3", "--view", "nope"])
    assert bad_period.exit_code == 2 and "2026-Q3" in bad_period.output
    assert bad_view.exit_code == 2 and "tsm" in bad_view.output
