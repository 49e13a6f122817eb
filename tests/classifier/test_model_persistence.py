"""skops persistence: a model comes back identical; a file asking for foreign types is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from classifier.classifier import Classifier
from classifier.errors import ModelNotFoundError, UntrustedModelError
from classifier.persistence import check_allowed, load_parts

MESSAGES = [
    ("The boiler has broken again and nobody came on Tuesday as promised", "email"),
    ("thank u so much to the plumber he was brill", "sms"),
    ("Agent: how can I help\nCaller: how do I apply for a parking permit", "call_transcript"),
]


def test_round_trip_gives_the_same_answers(small_classifier: Classifier, small_model_dir: Path) -> None:
    reloaded = Classifier.load(small_model_dir)
    assert reloaded.version == small_classifier.version
    for text, channel in MESSAGES:
        before = small_classifier.classify(text, channel=channel)
        after = reloaded.classify(text, channel=channel)
        assert after.type == before.type
        assert after.type_probabilities == pytest.approx(before.type_probabilities, abs=1e-6)
        assert after.explanation == before.explanation


def test_a_specific_version_can_be_loaded(small_classifier: Classifier, small_model_dir: Path) -> None:
    assert Classifier.load(small_model_dir, version=small_classifier.version).version == small_classifier.version
    with pytest.raises(ModelNotFoundError):
        Classifier.load(small_model_dir, version="19990101T000000Z-nothere")


def test_no_model_says_to_run_intake_train(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="intake train"):
        Classifier.load(tmp_path)


def test_metadata_records_what_the_brief_asks_for(small_classifier: Classifier) -> None:
    metadata = small_classifier.metadata
    for key in ("training_data_hash", "created_at", "metrics", "label_set", "review_threshold",
                "skops_trusted_types", "settings"):
        assert key in metadata
    # junk is learnt beside the five types (an outcome, not a type: classifications carry type None)
    assert set(metadata["label_set"]["types"]) == {"complaint", "service_request", "enquiry", "compliment",
                                                   "suggestion", "junk"}
    assert all(name.startswith("sklearn.") for name in metadata["skops_trusted_types"])


def test_the_saved_file_is_small(small_classifier: Classifier) -> None:
    assert small_classifier.metadata["model_bytes"] < 10_000_000


def test_foreign_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UntrustedModelError):
        check_allowed(["builtins.eval"], tmp_path / "model.skops")
    with pytest.raises(UntrustedModelError):
        check_allowed(["collections.OrderedDict", "sklearn.linear_model._logistic.LogisticRegression"], tmp_path)
    check_allowed(["sklearn.calibration._SigmoidCalibration"], tmp_path)


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    sio.dump(np.array([1, 2, 3]), path)
    with pytest.raises(UntrustedModelError):
        load_parts(path)
