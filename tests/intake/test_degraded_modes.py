"""Degraded modes stay safe: with no model, a model that will not load, or a classifier that raises,
the rules still run — a safety message still reaches the emergency queue with its deadlines — and
every item held for review says why."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from classifier import ModelRegistry
from intake.cases import current_deadlines
from intake.pipeline import ingest
from intake.runtime import Runtime, use_runtime
from models import Acknowledgement, Item
from tests.conftest import make_settings
from tests.factories import email_message

GAS = "There is a strong smell of gas in my kitchen, it's getting worse"
PERMIT = "How do I apply for a parking permit for my new car please?"


def _runtime(tmp_path: Path, database_url: str, model_dir: Path) -> Iterator[Runtime]:
    runtime = Runtime.build(make_settings(tmp_path, database_url, model_dir=model_dir))
    with use_runtime(runtime):
        yield runtime
    runtime.database.dispose()


@pytest.fixture
def no_model(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    empty = tmp_path / "no-models"
    empty.mkdir()
    yield from _runtime(tmp_path, database_url, empty)


@pytest.fixture
def broken_model(tmp_path: Path, database_url: str, trained_model_dir: Path) -> Iterator[Runtime]:
    """A model directory whose current version's files are corrupt (a half-copied deploy, a bad disk)."""
    copy = tmp_path / "broken-models"
    shutil.copytree(trained_model_dir, copy)
    version = ModelRegistry(copy).current_version()
    assert version is not None
    for path in (copy / version).iterdir():
        if path.is_file():
            path.write_bytes(b"\x00not a model\x00")
    yield from _runtime(tmp_path, database_url, copy)


class _FailingClassifier:
    """A loaded classifier with a bug: it raises on every message."""

    version = "broken"

    def classify(self, *args: object, **kwargs: object) -> object:
        raise ValueError("index out of range in feature 17")


@pytest.fixture
def failing_classifier(runtime: Runtime) -> Runtime:
    runtime.__dict__["classifier"] = _FailingClassifier()
    return runtime


def _item(runtime: Runtime, item_id: int) -> Item:
    with runtime.database.session() as session:
        item = session.scalars(select(Item).where(Item.id == item_id)).one()
        item.deadlines  # noqa: B018 - loaded before the session closes
        return item


DEGRADED = [
    ("no_model", "classifier unavailable"),
    ("broken_model", "classifier unavailable"),
    ("failing_classifier", "classifier failed on this message (ValueError)"),
]


@pytest.mark.parametrize(("mode", "reason"), DEGRADED)
def test_a_safety_message_still_goes_to_the_emergency_queue_with_its_deadlines(
    request: pytest.FixtureRequest, database_url: str, mode: str, reason: str
) -> None:
    runtime: Runtime = request.getfixturevalue(mode)
    result = ingest(runtime, email_message(GAS, sender="ali@example.com", subject="Gas"))

    item = _item(runtime, result.item_id)
    assert item.status == "processed"
    assert "urgent_safety" in item.flags
    assert item.queue == "emergency"
    assert item.type is None
    assert item.review_reason is not None and reason in item.review_reason
    assert "rules only" in (item.routing_reason or "")
    assert any(hit["value"] == "urgent_safety" for hit in item.explanation["rules"])
    first = min(d.due_at for d in current_deadlines(item))
    assert first - item.received_at <= timedelta(hours=24)
    with runtime.database.session() as session:
        acknowledgement = session.scalars(select(Acknowledgement)).one()
    assert acknowledgement.status == "sent"


@pytest.mark.parametrize(("mode", "reason"), DEGRADED)
def test_anything_else_waits_in_review_saying_why(
    request: pytest.FixtureRequest, database_url: str, mode: str, reason: str
) -> None:
    runtime: Runtime = request.getfixturevalue(mode)
    result = ingest(runtime, email_message(PERMIT, sender="kim@example.com"))

    item = _item(runtime, result.item_id)
    assert (item.status, item.queue, item.type, item.flags) == ("processed", "triage_review", None, [])
    assert item.review_reason is not None and reason in item.review_reason
    assert item.reference


DISCLOSURE = (
    "Please could you send me a rent statement. Separately, the gentleman at number 7 has a lodger "
    "who is taking his pension every week and he looks frightened of him."
)


@pytest.mark.parametrize(("mode", "reason"), DEGRADED)
def test_a_safeguarding_disclosure_still_reaches_the_safeguarding_queue_with_its_helplines(
    request: pytest.FixtureRequest, database_url: str, mode: str, reason: str
) -> None:
    runtime: Runtime = request.getfixturevalue(mode)
    result = ingest(runtime, email_message(DISCLOSURE, sender="sam@example.com", subject="Rent statement"))

    item = _item(runtime, result.item_id)
    assert item.status == "processed"
    assert "safeguarding" in item.flags
    assert item.queue in ("safeguarding", "emergency")
    assert item.review_reason is not None and reason in item.review_reason
    with runtime.database.session() as session:
        acknowledgement = session.scalars(select(Acknowledgement)).one()
    assert acknowledgement.status == "sent"
    assert "0808 2000 247" in acknowledgement.body_text  # the helpline a safeguarding reply carries
