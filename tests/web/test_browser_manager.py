"""Browser journey: a manager exports the overdue list and promotes a model (Playwright with Debian's
Chromium against a real uvicorn server, as tests/web/test_browser.py).

Model versions are an admin page (docs/workspace.md, roles): the landlord's manager who looks after
the model has the admin role here. The browser fixtures are tests/web/test_browser.py's.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.pipeline import ingest
from intake.runtime import Runtime
from models import AuditEntry, Deadline, Item
from tests.factories import email_message
from tests.web.conftest import PASSWORD, add_user, with_a_rejected_version
from tests.web.test_browser import BROWSER_CEILING_MS, _shot, browser, server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

COMPLAINTS = [
    "I am making a formal complaint. The damp in my son's bedroom has been reported four times since March and "
    "nobody has come. 7 Willow Road.",
    "Formal complaint: the repairs operative left my bathroom flooded and did not come back. Flat 9 Elm Court.",
    "I want to complain about how I was spoken to on the phone by your call centre on Monday.",
]


def _make_overdue(runtime: Runtime, item_id: int) -> str:
    """Every open deadline of the case moved two days into the past, as if nobody had acted."""
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.reference
        deadlines = session.scalars(select(Deadline).where(Deadline.item_id == item_id, Deadline.met_at.is_(None)))
        moved = 0
        for deadline in deadlines:
            deadline.due_at = runtime.clock.now() - timedelta(days=2)
            moved += 1
        if moved == 0:
            session.add(Deadline(item_id=item_id, kind="respond", stage="stage_1", policy="test",
                                 basis="test: a deadline already missed", due_at=runtime.clock.now() - timedelta(days=2)))
        item.next_due_at = runtime.clock.now() - timedelta(days=2)
        return item.reference


def test_a_manager_exports_the_overdue_list_and_promotes_a_model(  # type: ignore[no-untyped-def]
    browser, server: str, runtime: Runtime, tmp_path: Path, trained_model_dir: Path  # noqa: F811
) -> None:
    from classifier import ModelRegistry

    results = [ingest(runtime, email_message(text, subject="Complaint", sender=f"resident{n}@example.com"))
               for n, text in enumerate(COMPLAINTS)]
    overdue = sorted(_make_overdue(runtime, result.item_id) for result in results[:2])
    current, rejected = with_a_rejected_version(runtime, tmp_path, trained_model_dir)
    add_user(runtime, "maria", "admin")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(BROWSER_CEILING_MS)
    page = context.new_page()
    page.goto(f"{server}/staff/login")
    page.fill("#username", "maria")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{server}/staff/queues")

    # The overdue list, from the sidebar, downloaded as a spreadsheet.
    page.click("a[href='/staff/queues?due=overdue']")
    page.wait_for_url(f"{server}/staff/queues?due=overdue")
    shown = sorted(page.locator("[data-item-link]").all_inner_texts())
    assert shown == overdue
    _shot(page, "20-manager-overdue-list")
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv") and "overdue" in download.suggested_filename
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert sorted(row[next(k for k in row if "eference" in k)] for row in rows) == overdue

    # The Model versions page: the rejected version cannot be used without ticking the confirmation.
    page.goto(f"{server}/staff/models")
    row = page.locator("tr", has_text=rejected)
    assert "The quality check rejected this version" in row.inner_text()
    row.locator("button", has_text="Use this version").click()  # the browser refuses: the box is required
    assert page.url == f"{server}/staff/models"
    assert ModelRegistry(runtime.settings.model_dir).current_version() == current
    _shot(page, "21-manager-model-confirmation")
    row.locator("input[name='confirm_rejected']").check()
    row.locator("button", has_text="Use this version").click()
    page.wait_for_load_state()
    page.locator(f"text=Model {rejected} is now in use.").wait_for()
    assert ModelRegistry(runtime.settings.model_dir).current_version() == rejected
    assert "in use" in page.locator("tr", has_text=rejected).inner_text()
    _shot(page, "22-manager-model-promoted")

    with runtime.database.session() as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry).where(AuditEntry.actor == "maria"))]
    assert "case_list_exported" in actions and "model_gate_overridden" in actions and "model_promoted" in actions
    context.close()
