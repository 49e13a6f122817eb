"""/staff/reports for managers: the page, each table as CSV, the board report; nobody else gets in."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from intake.app import create_app
from intake.runtime import Runtime
from tests.web.conftest import signed_in


@pytest.fixture
def reports_client(report_runtime: Runtime, fixed_data) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(report_runtime), base_url="http://127.0.0.1") as client:
        yield client


def test_a_manager_sees_each_view_with_a_chart_and_a_table(reports_client, report_runtime) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(reports_client, report_runtime, "maria", "manager")

    for view in (
        "volume",
        "service_areas",
        "categories",
        "timeliness",
        "overdue",
        "outcomes",
        "corrections",
        "tsm",
    ):
        page = client.get(f"/staff/reports?period=2026-Q3&view={view}")
        assert page.status_code == 200
        html = page.text
        assert f'id="view-{view}"' in html and html.count('class="report-section"') == 1
        assert f'href="/staff/reports/{view}.csv?period=2026-Q3"' in html
        assert '<svg class="chart' in html
        assert f'view={view}" aria-current="page"' in html  # its tab is the current one
        assert "July to September 2026" in html
        assert "style=" not in html  # the Content Security Policy allows no inline styles
    tsm = client.get("/staff/reports?period=2026-Q3&view=tsm").text
    assert re.search(r"CH02 stage 1</th>.*?70\.00", tsm, re.S)  # the figure, in the table
    assert 'id="view-volume"' in client.get("/staff/reports?period=2026-Q3").text  # the first tab


def test_a_view_downloads_as_csv(reports_client, report_runtime) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(reports_client, report_runtime, "maria", "manager")

    response = client.get("/staff/reports/tsm.csv?period=2026-Q3")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="tsm-2026-Q3.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Measure", "Description", "Count"]
    assert rows[1][:5] == ["CH01 stage 1", "Stage 1 complaints received per 1,000 homes", "12", "2500", "4.8"]


def test_a_custom_range_and_a_bad_period(reports_client, report_runtime) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(reports_client, report_runtime, "maria", "manager")

    custom = client.get("/staff/reports?from=2026-09-15&to=2026-09-15&view=tsm")
    bad = client.get("/staff/reports?period=last+quarter")

    assert custom.status_code == 200 and "15 September 2026 to 15 September 2026" in custom.text
    assert 'id="view-tsm"' in custom.text
    assert bad.status_code == 200 and "That period could not be used" in bad.text


def test_the_board_report_is_one_print_ready_page(reports_client, report_runtime) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(reports_client, report_runtime, "maria", "manager")

    board = client.get("/staff/reports/board?period=2026-Q3&download=1")

    assert board.status_code == 200
    assert "attachment" in board.headers["content-disposition"]
    policy = board.headers["content-security-policy"]
    assert "style-src 'sha256-" in policy and "script-src" not in policy
    html = board.text
    assert "@media print" in html and "<script" not in html and 'href="/static' not in html
    assert "Report to the Board: July to September 2026" in html
    assert "Year to date" in html  # the TSMs for April to September too
    assert "70.0%" in html and "4.8 per 1,000 homes" in html


def test_only_managers_and_admins_see_reports(reports_client, report_runtime) -> None:  # type: ignore[no-untyped-def]
    anonymous = reports_client.get("/staff/reports/tsm.csv?period=2026-Q3", follow_redirects=False)
    assert anonymous.status_code == 303 and "/staff/login" in anonymous.headers["location"]

    client = signed_in(reports_client, report_runtime, "tom", "triage")
    assert client.get("/staff/reports").status_code == 403
    assert client.get("/staff/reports/tsm.csv").status_code == 403
    assert client.get("/staff/reports/board").status_code == 403
