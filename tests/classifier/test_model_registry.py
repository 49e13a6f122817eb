"""Versions on disk, the CURRENT pointer, promote and rollback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from classifier.errors import ModelNotFoundError
from classifier.registry import CURRENT_FILE, METADATA_FILE, MODEL_FILE, ModelRegistry


def _parts() -> dict[str, object]:
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    return {"type_classifier": model, "thresholds": np.array([0.5])}


def test_save_writes_model_and_metadata_and_makes_it_current(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    version = registry.save(_parts(), {"training_data_hash": "abc123def456", "metrics": {"f1": 0.9}}, now=moment)
    assert version == "20260304T050607Z-abc123de"
    assert registry.versions() == [version]
    assert registry.current_version() == version
    assert (tmp_path / version / MODEL_FILE).is_file()
    metadata = json.loads((tmp_path / version / METADATA_FILE).read_text())
    assert metadata["version"] == version
    assert metadata["training_data_hash"] == "abc123def456"
    assert isinstance(metadata["skops_trusted_types"], list)
    assert (tmp_path / CURRENT_FILE).read_text().strip() == version


def test_version_names_sort_by_time_and_never_clash(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = registry.new_version_name("abcdef0123", now=moment)
    assert first == "20260102T030405Z-abcdef01"
    (tmp_path / first).mkdir()
    assert registry.new_version_name("abcdef0123", now=moment) == f"{first}-2"


def test_save_without_promote_leaves_current_alone(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    first = registry.save(_parts(), {"training_data_hash": "1"}, version="v1")
    registry.save(_parts(), {"training_data_hash": "2"}, version="v2", promote=False)
    assert registry.current_version() == first
    assert registry.versions() == ["v1", "v2"]


def test_promote_and_rollback(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    registry.save(_parts(), {}, version="v1")
    registry.save(_parts(), {}, version="v2")
    assert registry.current_version() == "v2"
    assert registry.rollback() == "v1"
    assert registry.current_version() == "v1"
    registry.promote("v2")
    assert registry.current_version() == "v2"
    with pytest.raises(ModelNotFoundError):
        registry.promote("v9")


def test_rollback_with_nothing_earlier_is_a_clear_error(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    registry.save(_parts(), {}, version="v1")
    with pytest.raises(ModelNotFoundError, match="roll back"):
        registry.rollback()


def test_an_existing_version_is_never_overwritten(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    registry.save(_parts(), {}, version="v1")
    with pytest.raises(FileExistsError):
        registry.save(_parts(), {}, version="v1")


def test_half_written_directories_are_not_versions(tmp_path: Path) -> None:
    (tmp_path / ".v3.tmp").mkdir()
    (tmp_path / "v4").mkdir()  # no model file
    assert ModelRegistry(tmp_path).versions() == []


def test_default_directory_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_MODEL_DIR", str(tmp_path / "models"))
    assert ModelRegistry().model_dir == tmp_path / "models"
