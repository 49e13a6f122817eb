"""Real browser tests: Debian's Chromium driven by Playwright against a real uvicorn server.

A resident submits the form on a phone-sized screen (getting the errors right first), a triage
officer works an item with the keyboard only and sees it move queues, a manager escalates it, and
a user without the role is refused. Screenshots of the key pages go to test-output/screenshots/.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from intake.app import create_app
from intake.pipeline import ingest
from intake.runtime import Runtime
from tests.factories import email_message
from tests.web.conftest import PASSWORD, add_user

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
QUESTION = "Hi, could you send me a copy of my rent statement for 2025/26 please? I need it for a benefit claim. Thanks, Tom"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A ceiling for every Playwright wait (its default is 30 s): a loaded machine can be slow, never wrong.
BROWSER_CEILING_MS = 120_000


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    port = _free_port()
    runtime.settings.public_base_url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield runtime.settings.public_base_url
    running.should_exit = True
    thread.join(timeout=120)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module", autouse=True)
def _screenshot_folder() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in_with_the_keyboard(page, base: str, username: str, role: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/staff/queues")
    assert page.url.startswith(f"{base}/staff/login")
    page.focus("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/queues")  # exactly: the login page's ?next= ends the same way
    assert page.locator(".header__user").inner_text() == f"{username} ({role})"


def test_a_resident_submits_the_form_on_a_phone(browser, server: str, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=1, is_mobile=True)
    context.set_default_timeout(BROWSER_CEILING_MS)
    page = context.new_page()
    page.goto(f"{server}/contact")
    _shot(page, "01-contact-form-375px")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling

    page.click("text=Send message")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"  # announced first
    assert summary.locator("a").all_inner_texts() == [
        "Enter your full name", "Select who you are", "Select how you would like us to reply",
        "Enter what your message is about", "Enter your message",
    ]
    _shot(page, "02-contact-form-errors-375px")
    summary.locator("a", has_text="Enter your full name").click()
    assert page.evaluate("document.activeElement.id") == "full_name"

    page.fill("#full_name", "Kemi Oduya")
    page.check("#sender_role")
    page.check("#reply_by")
    page.fill("#email", "kemi@example.com")
    page.fill("#subject", "Leak under the sink")
    page.fill("#message", "I reported the leak under my kitchen sink three weeks ago and nobody has come. Flat 3, 14 Harrow Close.")
    page.click("text=Send message")
    page.wait_for_url(re.compile(r".*/contact/received\?s=.+"))
    reference = page.locator("[data-testid=reference]").inner_text()
    assert re.fullmatch(r"[A-Z]{3}-\d{4}-\d{6}", reference)
    _shot(page, "03-contact-confirmation-375px")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


def test_a_triage_officer_corrects_an_item_with_the_keyboard_and_sees_it_move(  # type: ignore[no-untyped-def]
    browser, server: str, runtime: Runtime
) -> None:
    add_user(runtime, "tina", "triage")
    result = ingest(runtime, email_message(QUESTION, subject="Rent statement", sender="tom@example.com"))
    from models import Item

    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        reference, first_queue = item.reference, item.queue
        assert item.type != "complaint"

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_CEILING_MS)
    page = context.new_page()
    _sign_in_with_the_keyboard(page, server, "tina", "triage")
    _shot(page, "04-queues")

    page.keyboard.press("/")  # search
    page.keyboard.type(reference)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=.*"))
    page.keyboard.press("j")  # first row
    page.keyboard.press("o")  # open it
    page.wait_for_url(re.compile(rf".*/staff/items/{result.item_id}\?from=.*"))
    _shot(page, "05-item-page")

    page.keyboard.press("c")  # type: complaint
    page.keyboard.press("1")  # first category: delay
    assert page.is_checked("#type") and page.is_checked("#categories")
    page.keyboard.press("s")  # save
    page.wait_for_load_state()
    banner = page.locator(".notification-banner")
    banner.wait_for()
    assert "Moved from" in banner.inner_text() and "Complaints" in banner.inner_text()
    _shot(page, "06-item-corrected")

    page.keyboard.press("u")  # back to the list being worked (the search), not the item's new queue
    page.wait_for_url(re.compile(r".*/staff/queues\?q=.*"))
    page.goto(f"{server}/staff/queues/complaints")
    assert reference in page.locator("[data-item-link]").all_inner_texts()
    page.goto(f"{server}/staff/queues/{first_queue}")
    assert reference not in page.locator("[data-item-link]").all_inner_texts()
    context.close()


def test_a_manager_escalates_a_complaint(browser, server: str, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from intake.corrections import correct_item
    from models import Item

    add_user(runtime, "mo", "manager")
    result = ingest(runtime, email_message(QUESTION, subject="Rent statement"))
    with runtime.database.session() as session:
        correct_item(runtime, session, session.get(Item, result.item_id), user="tina", type="complaint",
                     categories=["delay"], flags=[], queue=None, reason=None)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_CEILING_MS)
    page = context.new_page()
    _sign_in_with_the_keyboard(page, server, "mo", "manager")
    page.goto(f"{server}/staff/items/{result.item_id}")
    assert "Stage 1" in page.locator("#deadlines-title + p").inner_text()
    page.fill("#escalate-reason", "resident still unhappy with the repair")
    page.click("[data-testid=escalate]")
    page.locator(".notification-banner").wait_for()
    assert "Escalated to Stage 2" in page.locator(".notification-banner").inner_text()
    assert "final stage" in page.locator("[data-testid=ombudsman-reminder]").inner_text()
    _shot(page, "07-item-escalated")
    context.close()


def test_an_unauthorised_user_is_refused(browser, server: str, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    add_user(runtime, "tina", "triage")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_CEILING_MS)
    page = context.new_page()
    page.goto(f"{server}/staff/users")
    assert "/staff/login" in page.url  # signed out: asked to sign in
    _sign_in_with_the_keyboard(page, server, "tina", "triage")
    response = page.goto(f"{server}/staff/users")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "You cannot use this page"
    _shot(page, "08-refused")
    context.close()


def test_a_triage_officer_works_through_twenty_cases_with_the_keyboard_only(  # type: ignore[no-untyped-def]
    browser, server: str, runtime: Runtime
) -> None:
    from sqlalchemy import func, select

    from models import Correction

    add_user(runtime, "tina", "triage")
    for number in range(20):
        ingest(runtime, email_message(f"Hello, what day are the bins collected on Elm Road? House {number + 1}.",
                                      subject=f"Bins {number + 1}", sender=f"resident{number}@example.com"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)  # a loaded machine: every wait below ends on an event, this is a ceiling
    _sign_in_with_the_keyboard(page, server, "tina", "triage")
    page.goto(f"{server}/staff/queues?channel=email")

    page.keyboard.press("j")
    page.keyboard.press("o")
    visited: list[str] = []
    for done in range(20):
        page.wait_for_url(re.compile(r".*/staff/items/\d+\?from=.*"))
        page.locator("[data-correction-form]").wait_for()
        visited.append(re.search(r"/staff/items/(\d+)", page.url).group(1))  # type: ignore[union-attr]
        page.keyboard.press("p")  # compliment: a real change for every one of them
        page.keyboard.press("n")  # save and open the next case in this list
        if done < 19:
            page.wait_for_url(lambda url, seen=visited[-1]: f"/staff/items/{seen}?" not in url)
    page.wait_for_url(re.compile(r".*/staff/queues\?channel=email$"))
    assert "last case in this list" in page.locator(".notification-banner").inner_text()
    _shot(page, "09-end-of-the-list")
    assert len(set(visited)) == 20  # every case once, none skipped or repeated
    with runtime.database.session() as session:
        corrected = session.scalar(select(func.count(func.distinct(Correction.item_id))))
    assert corrected == 20
    context.close()


def test_a_manager_exports_the_overdue_list_and_promotes_a_model(  # type: ignore[no-untyped-def]
    browser, server: str, runtime: Runtime, tmp_path: Path, trained_model_dir: Path
) -> None:
    import csv
    import io
    import shutil
    from datetime import UTC, datetime, timedelta

    from classifier import ModelRegistry

    add_user(runtime, "mo", "admin")
    overdue = ingest(runtime, email_message(
        "I want to make a complaint: the leak under my bath has been reported three times and nobody came.",
        subject="Leak complaint", received_at=datetime.now(UTC) - timedelta(days=60)))
    runtime.settings.model_dir = tmp_path / "models"
    shutil.copytree(trained_model_dir, runtime.settings.model_dir)
    registry = ModelRegistry(runtime.settings.model_dir)
    current = registry.current_version()
    assert current is not None
    candidate = "99991231T000000Z-candidate"
    shutil.copytree(runtime.settings.model_dir / current, runtime.settings.model_dir / candidate)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    _sign_in_with_the_keyboard(page, server, "mo", "admin")
    page.click("text=Overdue")
    page.wait_for_url(re.compile(r".*due=overdue.*"))
    with page.expect_download() as download_info:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
    from models import Item

    with runtime.database.session() as session:
        reference = session.get(Item, overdue.item_id).reference  # type: ignore[union-attr]
    assert [row["Reference"] for row in rows] == [reference]

    page.goto(f"{server}/staff/models")
    page.click(f"form:has(input[value='{candidate}']) button")
    page.locator(".notification-banner").wait_for()
    assert f"Model {candidate} is now in use" in page.locator(".notification-banner").inner_text()
    assert registry.current_version() == candidate
    _shot(page, "10-model-promoted")
    context.close()
