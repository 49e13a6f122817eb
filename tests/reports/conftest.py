"""The reports' fixtures: a runtime (SQLite and PostgreSQL) holding the fixed data set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.runtime import Runtime, use_runtime
from tests.conftest import make_settings
from tests.reports import dataset


@pytest.fixture
def report_runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = Runtime.build(make_settings(tmp_path, database_url, homes=dataset.HOMES))
    with use_runtime(runtime):
        yield runtime
    runtime.database.dispose()


@pytest.fixture
def fixed_data(report_runtime: Runtime) -> dict[str, int]:
    with report_runtime.database.session() as session:
        return dataset.load(session)


# --- a live server and Chromium, for the browser test ------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_reports_server(report_runtime: Runtime, fixed_data: dict[str, int]) -> Iterator[str]:
    """The whole app served by uvicorn on a free local port, in a thread; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from intake.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(report_runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="reports-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # a ceiling: it starts as soon as it can
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=120)


@pytest.fixture
def chromium_page(tmp_path: Path) -> Iterator[object]:
    """A Playwright page in Debian's Chromium (never a downloaded browser), downloads allowed."""
    from pathlib import Path as _Path

    if not _Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, locale="en-GB", timezone_id="Europe/London")
        context.set_default_timeout(120_000)  # a ceiling (Playwright's default is 30 s): slow is not wrong
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
