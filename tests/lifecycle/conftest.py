"""Fixtures for the lifecycle tests: a clock that can be moved, and small helpers to read a case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from fastapi.testclient import TestClient

from intake.app import create_app
from intake.runtime import Runtime

# A Tuesday in term time, mid-morning in London: the quarter's tests start here.
START = datetime(2026, 10, 6, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Frozen time the test moves on with `clock.move_to(...)` or `clock.shift(...)`."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """The workspace app on the test's runtime (as tests/web has it)."""
    with TestClient(create_app(runtime), base_url="http://127.0.0.1") as test_client:
        yield test_client
