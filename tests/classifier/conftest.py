"""A small model trained once per session (a stratified slice of the seed TRAIN split), and data helpers."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from classifier.classifier import Classifier
from classifier.data import LabelledExample, load_examples, seed_files, split_examples

PER_TYPE = 70  # examples of each type in the small model: enough to learn, quick to train


def record(**overrides: Any) -> dict[str, Any]:
    """One line of the data format with sensible defaults."""
    base: dict[str, Any] = {
        "id": "t-1", "channel": "email", "sender": "a@example.org", "sender_name": "A Resident",
        "subject": "", "body": "My kitchen tap is dripping, could someone come and fix it please?",
        "type": "service_request", "categories": [], "flags": [], "queue": "service_requests",
    }
    base.update(overrides)
    return base


@pytest.fixture
def make_record() -> Callable[..., dict[str, Any]]:
    return record


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[list[dict[str, Any] | str], str], Path]:
    def write(lines: list[dict[str, Any] | str], name: str = "data.jsonl") -> Path:
        path = tmp_path / name
        path.write_text(
            "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
            encoding="utf-8",
        )
        return path

    return write


@pytest.fixture(scope="session")
def seed_split() -> tuple[list[LabelledExample], list[LabelledExample]]:
    return split_examples(load_examples(seed_files()))


@pytest.fixture(scope="session")
def small_training_set(seed_split: tuple[list[LabelledExample], list[LabelledExample]]) -> list[LabelledExample]:
    by_type: dict[str, list[LabelledExample]] = defaultdict(list)
    for example in seed_split[0]:
        if example.split is None:  # the corpus's own items, not the blind writers' risk-heavy TRAIN-only ones
            by_type[example.type].append(example)
    return [example for examples in by_type.values() for example in examples[:PER_TYPE]]


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory: pytest.TempPathFactory, small_training_set: list[LabelledExample]) -> Path:
    from classifier.training import train_model
    from intake.clock import SYSTEM_CLOCK

    out_dir = tmp_path_factory.mktemp("small-model")
    train_model(small_training_set, out_dir=out_dir, folds=3, clock=SYSTEM_CLOCK)
    return out_dir


@pytest.fixture(scope="session")
def small_classifier(small_model_dir: Path) -> Classifier:
    return Classifier.load(small_model_dir)


def estimator_form(model_dir: Path) -> Classifier:
    """The current version loaded from its estimators (model.skops), not from its inference form
    (inference.npz, what `Classifier.load` reads): for comparisons with scikit-learn's own answers."""
    from classifier.classifier import settings_from_metadata
    from classifier.model import TriageModel
    from classifier.persistence import load_parts
    from classifier.registry import MODEL_FILE, ModelRegistry

    registry = ModelRegistry(model_dir)
    version = registry.current_version()
    assert version is not None
    metadata = registry.metadata(version)
    model = TriageModel.from_parts(load_parts(registry.path_of(version) / MODEL_FILE),
                                   settings_from_metadata(metadata.get("settings", {})))
    return Classifier(model, metadata)


@pytest.fixture(scope="session")
def small_estimator_classifier(small_model_dir: Path) -> Classifier:
    return estimator_form(small_model_dir)


@pytest.fixture(scope="session")
def held_out_report(trained_model_dir: Path, seed_split: tuple[list[LabelledExample], list[LabelledExample]]):  # type: ignore[no-untyped-def]
    """The installed model (what `make test` trains) scored on the held-out TEST split, once."""
    from classifier.evaluation_run import evaluate_classifier

    return evaluate_classifier(Classifier.load(trained_model_dir), seed_split[1])
