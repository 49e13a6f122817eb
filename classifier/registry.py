"""Model versions on disk: `<model_dir>/<version>/{model.skops, inference.npz, metadata.json}` and a
CURRENT pointer. inference.npz (classifier/inference.py) is what classifying loads; versions saved
before it existed have only model.skops, and load from it.

The pointer and the promotion history are small files replaced atomically (write, fsync, rename),
so a reader never sees half a pointer; a version directory is written under a temporary name and
renamed into place once complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.config import default_model_dir
from classifier.errors import ModelNotFoundError
from classifier.persistence import save_parts

MODEL_FILE = "model.skops"
INFERENCE_FILE = "inference.npz"  # the model's arrays for classifying: loaded without scikit-learn or skops
METADATA_FILE = "metadata.json"
CURRENT_FILE = "CURRENT"
HISTORY_FILE = "HISTORY.json"  # versions promoted so far, oldest first, for rollback()
# In the metadata of a model trained on the seed TRAIN split alone (`intake model ensure`, the tests'
# pinned model): the hash of what shaped it, so one training serves both (`make test` trained twice).
SEED_INPUTS_KEY = "seed_inputs_hash"


def seed_inputs_hash() -> str:
    """A hash of everything that shapes a model trained on the seed corpus: the seed files and the
    code of the classifier and rule packages (their .py and data files)."""
    import triage_rules
    from classifier.data import seed_files

    packages = [Path(__file__).resolve().parent, Path(triage_rules.__file__).resolve().parent]
    root = packages[0].parent
    sources = [Path(path).resolve() for path in seed_files()]
    for package in packages:
        sources += [path for path in package.rglob("*") if path.suffix in {".py", ".yaml", ".yml", ".json", ".txt"}]
    digest = hashlib.sha256()
    for path in sorted(set(sources)):
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class ModelRegistry:
    def __init__(self, model_dir: Path | str | None = None, *, environ: Mapping[str, str] | None = None) -> None:
        # Without a directory: INTAKE_MODEL_DIR from `environ` (the process's unless one is passed in).
        self.model_dir = (
            Path(model_dir) if model_dir is not None else default_model_dir(os.environ if environ is None else environ)
        )

    def versions(self) -> list[str]:
        """Complete versions, oldest first (names sort by creation time)."""
        if not self.model_dir.is_dir():
            return []
        return sorted(
            entry.name for entry in self.model_dir.iterdir()
            if entry.is_dir() and not entry.name.startswith(".")
            and (entry / MODEL_FILE).is_file() and (entry / METADATA_FILE).is_file()
        )

    def current_version(self) -> str | None:
        pointer = self.model_dir / CURRENT_FILE
        if not pointer.is_file():
            return None
        version = pointer.read_text(encoding="utf-8").strip()
        return version if version in self.versions() else None

    def path_of(self, version: str) -> Path:
        path = self.model_dir / version
        if not (path / MODEL_FILE).is_file():
            raise ModelNotFoundError(f"model version {version!r} not found in {self.model_dir}")
        return path

    def metadata(self, version: str) -> dict[str, Any]:
        return json.loads((self.path_of(version) / METADATA_FILE).read_text(encoding="utf-8"))

    def version_trained_from_seed(self, inputs_hash: str) -> str | None:
        """The newest version whose metadata says it was trained on the seed corpus from these inputs."""
        for version in reversed(self.versions()):
            try:
                if self.metadata(version).get(SEED_INPUTS_KEY) == inputs_hash:
                    return version
            except (OSError, ValueError):  # a version being written or damaged: not this one
                continue
        return None

    def new_version_name(self, data_hash: str, now: datetime) -> str:
        """`<UTC time>-<hash prefix>`, from the moment passed in (the registry reads no clock)."""
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        base = f"{stamp}-{data_hash[:8]}"
        name, suffix = base, 2
        while (self.model_dir / name).exists():
            name, suffix = f"{base}-{suffix}", suffix + 1
        return name

    def save(
        self, parts: dict[str, Any], metadata: dict[str, Any], *, version: str | None = None, promote: bool = True,
        now: datetime | None = None, inference: Mapping[str, Any] | None = None,
    ) -> str:
        """Write a new version (model + metadata, and its inference form's arrays when given:
        `classifier.inference.inference_arrays`) and, by default, make it current.

        The version is named after `now` (the moment of training, passed in) unless `version` is given.
        """
        if version is None:
            if now is None:
                raise ValueError("save() needs `version` or `now` (the registry reads no clock)")
            version = self.new_version_name(str(metadata.get("training_data_hash", "nohash")), now)
        final = self.model_dir / version
        if final.exists():
            raise FileExistsError(f"model version {version!r} already exists in {self.model_dir}")
        self.model_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.model_dir, prefix=f".{version}."))
        try:
            trusted = save_parts(parts, staging / MODEL_FILE)
            record = {**metadata, "version": version, "skops_trusted_types": trusted,
                      "model_bytes": (staging / MODEL_FILE).stat().st_size}
            if inference is not None:
                np.savez(staging / INFERENCE_FILE, **inference)
                record["inference_bytes"] = (staging / INFERENCE_FILE).stat().st_size
            (staging / METADATA_FILE).write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if promote:
            self.promote(version)
        return version

    def _history(self) -> list[str]:
        path = self.model_dir / HISTORY_FILE
        if not path.is_file():
            return []
        return [version for version in json.loads(path.read_text(encoding="utf-8")) if isinstance(version, str)]

    def promote(self, version: str) -> None:
        self.path_of(version)  # raises when missing
        history = [entry for entry in self._history() if entry != version] + [version]
        _write_atomically(self.model_dir / HISTORY_FILE, json.dumps(history))
        _write_atomically(self.model_dir / CURRENT_FILE, version + "\n")

    def rollback(self) -> str:
        """Make the previously promoted (still existing) version current again; return it."""
        current = self.current_version()
        available = set(self.versions())
        history = [entry for entry in self._history() if entry in available and entry != current]
        if not history:
            raise ModelNotFoundError(f"no earlier promoted model version to roll back to in {self.model_dir}")
        previous = history[-1]
        _write_atomically(self.model_dir / HISTORY_FILE, json.dumps(history))
        _write_atomically(self.model_dir / CURRENT_FILE, previous + "\n")
        return previous
