"""Fixtures for the intake tests: the Twilio stand-in and an SMS-capable runtime (from tests/channels),
and a runtime whose jobs wait in the database queue until a test (or a worker) runs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.runtime import Runtime, use_runtime
from tests.channels.twilio_support import sms_runtime, twilio_standin  # noqa: F401  (fixtures, found by name)
from tests.conftest import make_settings


@pytest.fixture
def queued_runtime(tmp_path: Path, database_url: str, trained_model_dir: Path, loaded_classifier) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    """The embedded default: jobs go to the database queue, nothing runs them until a worker (or the test) does."""
    settings = make_settings(tmp_path, database_url, model_dir=trained_model_dir, jobs="database")
    built = Runtime.build(settings)
    built.__dict__["classifier"] = loaded_classifier
    with use_runtime(built):
        yield built
    built.database.dispose()
