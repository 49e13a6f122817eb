"""skops persistence: a model comes back identical; a file asking for foreign types is refused."""

from __future__ import annotations

from dataclasses import replace
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


def test_category_hint_thresholds_are_saved_and_used(small_classifier: Classifier, small_model_dir: Path) -> None:
    model = small_classifier.model
    assert model.category_hint_thresholds is not None
    assert model.category_hint_thresholds.shape == (len(model.categories),)
    reloaded = Classifier.load(small_model_dir).model
    assert np.array_equal(reloaded.category_hint_thresholds, model.category_hint_thresholds)
    # A hinted category is chosen between its hint threshold and its threshold; unhinted, it is not.
    chosen = replace(model, category_thresholds=np.full(len(model.categories), 0.5),
                     category_hint_thresholds=np.full(len(model.categories), 0.2))
    probabilities = np.zeros(len(model.categories))
    probabilities[0], probabilities[1] = 0.9, 0.3
    second = model.categories[1]
    assert chosen.choose_categories(probabilities) == [model.categories[0]]
    assert chosen.choose_categories(probabilities, hinted=[second]) == [model.categories[0], second]


def test_categories_are_weighed_by_how_likely_a_complaint_it_is(
    small_classifier: Classifier, small_model_dir: Path
) -> None:
    model = small_classifier.model
    # Training chooses the category thresholds on P(complaint) x P(category | complaint), and says so.
    assert model.categories_weighted_by_complaint
    assert Classifier.load(small_model_dir).model.categories_weighted_by_complaint
    probabilities = np.zeros(len(model.categories))
    probabilities[0], probabilities[1] = 0.9, 0.6
    at_half = replace(model, category_thresholds=np.full(len(model.categories), 0.5),
                      category_hint_thresholds=np.full(len(model.categories), 2.0))
    # A sure complaint keeps both; a doubtful one needs stronger evidence for the second.
    assert at_half.choose_categories(at_half.category_scores(probabilities, 1.0)) == list(model.categories[:2])
    assert at_half.choose_categories(at_half.category_scores(probabilities, 0.6)) == [model.categories[0]]
    # A model saved before the weighting compares the category model's own probabilities.
    unweighted = replace(at_half, categories_weighted_by_complaint=False)
    assert unweighted.choose_categories(unweighted.category_scores(probabilities, 0.6)) == list(model.categories[:2])


def test_a_doubtful_guess_at_a_category_is_not_made(small_classifier: Classifier, small_model_dir: Path) -> None:
    model = small_classifier.model
    assert Classifier.load(small_model_dir).model.top_category_floor == model.top_category_floor
    floored = replace(model, category_thresholds=np.full(len(model.categories), 0.5),
                      category_hint_thresholds=np.full(len(model.categories), 2.0), top_category_floor=0.3)
    scores = np.zeros(len(model.categories))
    scores[2] = 0.35
    # None passes its threshold: the most likely one is given if it reaches the floor, else none.
    assert floored.choose_categories(scores) == [model.categories[2]]
    assert floored.choose_categories(scores * 0.5) == []
    assert replace(floored, top_category_floor=0.0).choose_categories(scores * 0.5) == [model.categories[2]]
