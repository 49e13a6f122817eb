"""A model's inference form: `inference.npz` beside model.skops, loaded with NumPy alone.

model.skops holds the fitted scikit-learn estimators: what training made, and what an audit or a
retrained threshold reads. Classifying reads none of them: the scorer (classifier/scoring.py) uses
the stacked weights, intercepts and sigmoid calibrations; the features (classifier/features.py) the
vocabularies and idf; the explanation the word weights. Loading skops means importing scikit-learn,
skops, joblib and the SciPy modules only they use: about 90 MB of a worker's resident memory for
code inference never runs (issue 14). So a saved version also gets those numbers as plain arrays:

- `np.savez` (not compressed: it loads in a few tens of milliseconds; the model directory is not
  in git), read with `allow_pickle=False`: strings are fixed-width Unicode arrays, nothing runs code;
- the arrays are exactly the ones the skops form gives after loading (the same float32 weights,
  float64 calibration and thresholds), so both forms classify alike to the last bit
  (tests/classifier/test_inference_form.py checks every seed message);
- a version without the file (saved before it existed) loads the old way, from model.skops.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from classifier.errors import ModelNotFoundError
from classifier.explanation import explainer_weights
from classifier.features import FeatureBuilder
from classifier.model import ModelSettings, TriageModel
from classifier.registry import INFERENCE_FILE, MODEL_FILE

log = logging.getLogger(__name__)

# Bumped when the arrays change meaning: a file of another format is ignored (model.skops is read).
INFERENCE_FORMAT = 1
_SCORER = "scorer."
_VECTORIZER = "vectorizer."


def _names(values: object) -> np.ndarray:
    return np.array(list(values), dtype=str)  # type: ignore[call-overload]


def inference_arrays(model: TriageModel) -> dict[str, np.ndarray]:
    """Everything classifying reads from `model` (a fitted or skops-loaded one), as named arrays."""
    if model.type_classifier is None:
        raise ValueError("inference_arrays needs a model with its estimators (fitted or loaded from model.skops)")
    arrays: dict[str, np.ndarray] = {
        "format": np.array([INFERENCE_FORMAT], dtype=np.int64),
        "types": _names(model.types),
        "categories": _names(model.categories),
        "category_thresholds": np.asarray(model.category_thresholds, dtype=np.float64),
        "flag_threshold_names": _names(model.flag_thresholds),
        "flag_threshold_values": np.array(list(model.flag_thresholds.values()), dtype=np.float64),
        "confirm_threshold_names": _names(model.confirm_thresholds),
        "confirm_threshold_values": np.array(list(model.confirm_thresholds.values()), dtype=np.float64),
        "categories_weighted_by_complaint": np.array([model.categories_weighted_by_complaint]),
        "top_category_floor": np.array([model.top_category_floor], dtype=np.float64),
    }
    if model.category_hint_thresholds is not None:
        arrays["category_hint_thresholds"] = np.asarray(model.category_hint_thresholds, dtype=np.float64)
    for name, saved in model.builder.parts().items():
        for key, values in saved.items():
            arrays[f"{_VECTORIZER}{name}.{key}"] = values
    for key, values in model.scorer().to_arrays().items():
        arrays[_SCORER + key] = values
    type_weights, category_weights = explainer_weights(model.type_classifier, model.category_classifier,
                                                       model.types, model.categories, model.builder.word_columns)
    arrays["explainer.type_weights"] = type_weights
    arrays["explainer.category_names"] = _names(category_weights)
    words = type_weights.shape[1]
    arrays["explainer.category_weights"] = (np.vstack(list(category_weights.values())) if category_weights
                                            else np.zeros((0, words), dtype=type_weights.dtype))
    return arrays


def model_from_inference(arrays: Mapping[str, np.ndarray], settings: ModelSettings) -> TriageModel:
    """The model `inference_arrays` described, without estimators: it scores and explains alike."""
    from classifier.scoring import LinearScorer

    vectorizers: dict[str, dict[str, np.ndarray]] = {}
    for key, values in arrays.items():
        if key.startswith(_VECTORIZER):
            name, part = key[len(_VECTORIZER):].split(".", 1)
            vectorizers.setdefault(name, {})[part] = values
    scorer = LinearScorer.from_arrays({key[len(_SCORER):]: values for key, values in arrays.items()
                                       if key.startswith(_SCORER)})
    category_weights = {str(name): row for name, row in zip(arrays["explainer.category_names"].tolist(),
                                                            arrays["explainer.category_weights"], strict=True)}

    def floats(names: str, values: str) -> dict[str, float]:
        return dict(zip(map(str, arrays[names].tolist()), arrays[values].tolist(), strict=True))

    return TriageModel(
        settings=settings,
        builder=FeatureBuilder.from_arrays(vectorizers, settings.features),
        types=tuple(map(str, arrays["types"].tolist())),
        categories=tuple(map(str, arrays["categories"].tolist())),
        type_classifier=None,
        category_classifier=None,
        category_thresholds=arrays["category_thresholds"],
        category_hint_thresholds=arrays.get("category_hint_thresholds"),
        flag_thresholds=floats("flag_threshold_names", "flag_threshold_values"),
        confirm_thresholds=floats("confirm_threshold_names", "confirm_threshold_values"),
        categories_weighted_by_complaint=bool(arrays["categories_weighted_by_complaint"][0]),
        top_category_floor=float(arrays["top_category_floor"][0]),
        explainer_weights=(arrays["explainer.type_weights"], category_weights),
        _scorer=scorer,
    )


def read_inference(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of an inference.npz, or None when there is none (or of another format: then the
    version loads from model.skops). Never unpickles: object arrays are refused."""
    if not path.is_file():
        return None
    try:
        # Our own handle: np.load leaves its file open when the archive inside is unreadable.
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        # A damaged copy (a disk full while it was written by another tool, a partial restore) must
        # not stop classification: model.skops still holds the same model.
        log.error("%s cannot be read (%s): loading model.skops instead", path, error)
        return None
    if arrays.get("format", np.zeros(0)).tolist() != [INFERENCE_FORMAT]:
        return None
    return arrays


def write_inference(arrays: Mapping[str, np.ndarray], path: Path) -> None:
    """Write the arrays to `path` (a temporary file renamed into place: a reader never sees half)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    os.close(handle)
    try:
        np.savez(temporary, **arrays)  # type: ignore[arg-type]
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_inference_file(version_dir: Path, settings: ModelSettings) -> Path:
    """Write the inference form of a version saved without one (read from its model.skops)."""
    from classifier.persistence import load_parts

    if not (version_dir / MODEL_FILE).is_file():
        raise ModelNotFoundError(f"{version_dir}: no {MODEL_FILE}")
    model = TriageModel.from_parts(load_parts(version_dir / MODEL_FILE), settings)
    path = version_dir / INFERENCE_FILE
    write_inference(inference_arrays(model), path)
    return path
