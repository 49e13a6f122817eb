"""The pinned test model: trained once from the seed TRAIN split, recorded with what it was trained
from, and adopted from `make model`'s installation when that was trained from the same inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from classifier import ModelRegistry
from classifier.registry import METADATA_FILE, SEED_INPUTS_KEY, seed_inputs_hash
from tests.conftest import _adopt_installed_model


def test_the_pinned_model_records_the_inputs_it_was_trained_from(trained_model_dir: Path) -> None:
    registry = ModelRegistry(trained_model_dir)
    version = registry.current_version()
    assert version is not None
    assert registry.metadata(version)[SEED_INPUTS_KEY] == seed_inputs_hash()


def test_an_installed_model_trained_from_the_same_inputs_is_copied_not_trained_again(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    installed, version, into = _an_installed_model_and_an_empty_pin(trained_model_dir, tmp_path)

    assert _adopt_installed_model(seed_inputs_hash(), into, installed)

    assert ModelRegistry(into).current_version() == version
    assert (into / version / "model.skops").read_bytes() == (installed / version / "model.skops").read_bytes()
    # A copy: the installed model changing afterwards does not reach the pinned one.
    shutil.rmtree(installed)
    assert ModelRegistry(into).metadata(version)[SEED_INPUTS_KEY] == seed_inputs_hash()


def test_an_installed_model_from_other_inputs_or_retrained_is_not_adopted(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    installed, version, into = _an_installed_model_and_an_empty_pin(trained_model_dir, tmp_path)

    assert not _adopt_installed_model("0" * 16, into, installed)  # other seed data or code

    metadata_path = installed / version / METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    del metadata[SEED_INPUTS_KEY]  # e.g. retrained by the learning loop, with corrections
    metadata_path.write_text(json.dumps(metadata))
    assert not _adopt_installed_model(seed_inputs_hash(), into, installed)
    assert ModelRegistry(into).current_version() is None


def _an_installed_model_and_an_empty_pin(trained_model_dir: Path, tmp_path: Path) -> tuple[Path, str, Path]:
    """A copy of the pinned model as `make model` would install it, its version, and an empty pin directory."""
    installed = tmp_path / "var-models"
    shutil.copytree(trained_model_dir, installed)
    version = ModelRegistry(installed).current_version()
    assert version is not None
    into = tmp_path / "pinned"
    into.mkdir()
    return installed, version, into
