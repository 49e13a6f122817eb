"""The inference form (inference.npz): saved with every trained version, loaded without scikit-learn or
skops, and answering exactly as the estimators in model.skops do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifier.classifier import Classifier, add_inference_form, as_message
from classifier.data import LabelledExample, load_examples, seed_files
from classifier.encoding import encode
from classifier.inference import INFERENCE_FORMAT, read_inference
from classifier.registry import INFERENCE_FILE, METADATA_FILE, ModelRegistry
from tests.classifier.conftest import estimator_form

BATCH = 256  # as the workers and the benchmark classify


def _every_message(seed_split: tuple[list[LabelledExample], list[LabelledExample]]) -> list[LabelledExample]:
    """Every seed message, then any TEST item not among them (none today: TEST is a part of the seeds)."""
    seeds = load_examples(seed_files())
    ids = {example.id for example in seeds}
    return seeds + [example for example in seed_split[1] if example.id not in ids]


def _copy_of(model_dir: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of a trained model directory to damage or change, and its current version."""
    models = tmp_path / "models"
    shutil.copytree(model_dir, models)
    version = ModelRegistry(models).current_version()
    assert version is not None
    return models, version


@pytest.fixture(scope="module")
def both_forms(trained_model_dir: Path) -> tuple[Classifier, Classifier]:
    return Classifier.load(trained_model_dir), estimator_form(trained_model_dir)


def test_a_trained_version_has_an_inference_form_and_loads_from_it(trained_model_dir: Path) -> None:
    registry = ModelRegistry(trained_model_dir)
    version = registry.current_version()
    assert version is not None
    path = registry.path_of(version) / INFERENCE_FILE
    assert path.is_file()
    assert registry.metadata(version)["inference_bytes"] == path.stat().st_size
    with np.load(path, allow_pickle=False) as stored:  # no object arrays: nothing is unpickled
        assert all(stored[key].dtype != object for key in stored.files)
    loaded = Classifier.load(trained_model_dir)
    assert loaded.model.type_classifier is None and loaded.model.category_classifier is None
    assert loaded.model.flag_classifiers == {}


def test_the_inference_form_answers_exactly_as_the_estimators(
    both_forms: tuple[Classifier, Classifier], seed_split: tuple[list[LabelledExample], list[LabelledExample]]
) -> None:
    lean, full = both_forms
    messages = _every_message(seed_split)
    assert {example.id for example in seed_split[1]} <= {example.id for example in messages}
    assert lean.review_threshold == full.review_threshold
    for start in range(0, len(messages), BATCH):
        batch = messages[start:start + BATCH]
        # labels, categories, flags, queues, review decisions, rounded probabilities, explanations
        assert lean.classify_many(batch) == full.classify_many(batch)
        # and the probabilities themselves, unrounded: the same floats
        inputs = [item.model_input for item in encode([as_message(example) for example in batch])
                  if item.model_input is not None]
        lean_features, full_features = lean.model.features(inputs), full.model.features(inputs)
        assert (lean_features != full_features).nnz == 0
        assert lean_features.dtype == full_features.dtype
        lean_predictions, full_predictions = lean.model.predict(lean_features), full.model.predict(full_features)
        assert np.array_equal(lean_predictions.type_probabilities, full_predictions.type_probabilities)
        assert np.array_equal(lean_predictions.category_probabilities, full_predictions.category_probabilities)
        assert list(lean_predictions.flag_probabilities) == list(full_predictions.flag_probabilities)
        for flag, values in full_predictions.flag_probabilities.items():
            assert np.array_equal(lean_predictions.flag_probabilities[flag], values)


def test_the_inference_form_keeps_every_threshold(both_forms: tuple[Classifier, Classifier]) -> None:
    lean, full = (form.model for form in both_forms)
    assert lean.types == full.types and lean.categories == full.categories
    assert np.array_equal(lean.category_thresholds, full.category_thresholds)
    assert (lean.category_hint_thresholds is None) == (full.category_hint_thresholds is None)
    if full.category_hint_thresholds is not None:
        assert np.array_equal(lean.category_hint_thresholds, full.category_hint_thresholds)  # type: ignore[arg-type]
    assert list(lean.flag_thresholds.items()) == list(full.flag_thresholds.items())
    assert list(lean.confirm_thresholds.items()) == list(full.confirm_thresholds.items())
    assert lean.categories_weighted_by_complaint == full.categories_weighted_by_complaint
    assert lean.top_category_floor == full.top_category_floor
    assert lean.builder.feature_names() == full.builder.feature_names()
    assert lean.builder.n_features == full.builder.n_features


def test_classifying_imports_neither_scikit_learn_nor_skops(trained_model_dir: Path) -> None:
    script = (
        "import sys\n"
        "from classifier.classifier import Classifier\n"
        f"classifier = Classifier.load({str(trained_model_dir)!r})\n"
        "results = classifier.classify_many([\n"
        "    {'text': 'The boiler has broken again and nobody came on Tuesday', 'channel': 'email'},\n"
        "    {'text': 'thank u so much to the plumber he was brill', 'channel': 'sms'},\n"
        "    {'text': 'Agent: how can I help\\nCaller: my ceiling is leaking', 'channel': 'call_transcript'},\n"
        "])\n"
        "assert all(result.type for result in results), results\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in {'sklearn', 'skops', 'joblib'}))\n"
    )
    root = Path(__file__).resolve().parents[2]
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env=environ, cwd=root).stdout
    loaded = json.loads(output.strip().replace("'", '"'))
    assert "sklearn" not in loaded and "skops" not in loaded
    assert loaded == []


def test_a_version_without_the_file_loads_from_skops_and_can_be_given_one(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    models, version = _copy_of(trained_model_dir, tmp_path)
    (models / version / INFERENCE_FILE).unlink()  # as a version saved before the inference form

    old = Classifier.load(models)
    assert old.model.type_classifier is not None  # the estimators, from model.skops

    path = add_inference_form(models)
    assert path == models / version / INFERENCE_FILE
    assert path.read_bytes() == (trained_model_dir / version / INFERENCE_FILE).read_bytes()
    lean = Classifier.load(models)
    assert lean.model.type_classifier is None
    message = "the boiler is broken again, third time I've rung, the kids are freezing"
    assert lean.classify(message, channel="sms") == old.classify(message, channel="sms")


def test_a_file_of_another_format_is_ignored(trained_model_dir: Path, tmp_path: Path) -> None:
    models, version = _copy_of(trained_model_dir, tmp_path)
    path = models / version / INFERENCE_FILE
    np.savez(path, format=np.array([INFERENCE_FORMAT + 1]))
    assert read_inference(path) is None
    assert Classifier.load(models).model.type_classifier is not None
    assert json.loads((models / version / METADATA_FILE).read_text())["version"] == version


def test_a_small_trained_model_gets_one_too(small_model_dir: Path, small_classifier: Classifier) -> None:
    version = ModelRegistry(small_model_dir).current_version()
    assert version is not None
    assert (small_model_dir / version / INFERENCE_FILE).is_file()
    assert small_classifier.model.type_classifier is None
    full = estimator_form(small_model_dir)
    for text, channel in [("The boiler has broken again and nobody came on Tuesday as promised", "email"),
                          ("how do I apply for a parking permit", "sms")]:
        assert small_classifier.classify(text, channel=channel) == full.classify(text, channel=channel)


def test_a_damaged_file_is_reported_and_the_version_loads_from_skops(
    trained_model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    models, version = _copy_of(trained_model_dir, tmp_path)
    path = models / version / INFERENCE_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # cut off half-way
    with caplog.at_level("ERROR", logger="classifier.inference"):
        loaded = Classifier.load(models)
    assert loaded.model.type_classifier is not None  # from model.skops
    assert "cannot be read" in caplog.text


def test_intake_model_ensure_gives_an_installed_version_its_inference_form(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    models, version = _copy_of(trained_model_dir, tmp_path)
    (models / version / INFERENCE_FILE).unlink()  # installed before the inference form existed
    environment = {**os.environ, "INTAKE_MODEL_DIR": str(models)}
    result = subprocess.run([sys.executable, "-m", "intake", "model", "ensure"], env=environment,
                            capture_output=True, text=True, timeout=300, check=True)
    assert "inference form written" in result.stderr  # the CLI reports on stderr
    assert read_inference(models / version / INFERENCE_FILE) is not None
    assert ModelRegistry(models).current_version() == version  # not retrained
