"""In a real browser: a manager signs in, opens the reports and downloads a table as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from intake.users import create_user

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"


def test_a_manager_opens_the_reports_and_downloads_a_csv(
    report_runtime, live_reports_server, chromium_page, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with report_runtime.database.session() as session:
        create_user(session, username="maria", password=PASSWORD, role="manager", actor="test")
    page = chromium_page

    page.goto(f"{live_reports_server}/staff/reports?period=2026-Q3&view=tsm")  # → the sign-in page first
    page.fill("#username", "maria")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/reports?period=2026-Q3&view=tsm")

    assert page.locator("h1").inner_text().startswith("Reports")
    assert page.locator("#view-tsm svg.chart").count() == 1
    ch02 = page.locator("#table-tsm tbody tr").filter(has_text="CH02 stage 1")
    assert "70.00" in ch02.inner_text()

    with page.expect_download() as download_info:
        page.click('a[data-report-csv="tsm"]')
    download = download_info.value
    assert download.suggested_filename == "tsm-2026-Q3.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "Measure"
    assert [rows[3][0], rows[3][2], rows[3][3], rows[3][4]] == ["CH02 stage 1", "7", "10", "70"]

    # The period picker works without JavaScript: choose a financial quarter and show it.
    page.select_option("#period", "FY2026-27-Q2")
    page.click("text=Show")
    page.wait_for_url("**period=FY2026-27-Q2&view=tsm")
    assert "Quarter 2 of 2026/27" in page.locator("h1").inner_text()
    # The tabs move between reports for the same period.
    page.click("nav.report-tabs >> text=Complaint categories")
    page.wait_for_url("**period=FY2026-27-Q2&view=categories")
    assert page.locator("#view-categories table").count() == 1
    page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)
