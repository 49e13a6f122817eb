"""Training the full model on the seed TRAIN split: thresholds from cross-validation, a sane held-out score."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier.classifier import Classifier
from classifier.data import LabelledExample, corpus_hash
from classifier.training import train_model
from intake.clock import SYSTEM_CLOCK


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.timeout(1800)  # a full training: about a minute on a quiet 2-core machine
def test_full_training_chooses_thresholds_on_train_and_scores_the_held_out_split(
    seed_split: tuple[list[LabelledExample], list[LabelledExample]], tmp_path: Path
) -> None:
    train, test = seed_split
    result = train_model(train, out_dir=tmp_path, evaluation_examples=test, clock=SYSTEM_CLOCK)
    metadata = result.metadata
    assert metadata["training_data_hash"] == corpus_hash(train)
    assert metadata["held_out_data_hash"] == corpus_hash(test)
    assert metadata["training_examples"] == len(train)

    choice = metadata["review_threshold_choice"]
    assert 0.2 <= metadata["review_threshold"] < 1.0
    assert choice["cv_routed_queue_accuracy"] >= 0.95 or not choice["met"]
    # the errors no threshold can hold back bound what any threshold gives
    assert choice["cv_routed_queue_accuracy"] <= choice["cv_routed_queue_accuracy_ceiling"]
    assert choice["cv_unavoidable_errors"] >= 0

    held_out = metadata["reports"]["held_out"]
    assert held_out["n"] == len(test)
    # Floors well below the targets: this fails when something is broken, not when a target is missed
    # (the real figures are in docs/classifier.md).
    assert held_out["type_macro_f1"] > 0.8
    assert held_out["category_micro_f1"] > 0.6
    # 1.000 with the shipped data (issue 11's target, see docs/classifier.md); this floor guards
    # against a model that finds far fewer, not against a single miss (test_heldout_targets.py).
    assert held_out["flag_recall"]["urgent_safety"] >= 0.8

    reloaded = Classifier.load(tmp_path)
    assert reloaded.version == result.version
    assert reloaded.review_threshold == metadata["review_threshold"]


def test_training_needs_two_types(tmp_path: Path) -> None:
    examples = [LabelledExample(id=str(i), body=f"tap {i} is dripping", type="service_request") for i in range(10)]
    with pytest.raises(ValueError, match="two types"):
        train_model(examples, out_dir=tmp_path, clock=SYSTEM_CLOCK)


def test_empty_bodies_are_left_out_of_training(small_training_set: list[LabelledExample], tmp_path: Path) -> None:
    spread = small_training_set[::6][:60]  # the small set is grouped by type: take some of each
    examples = [*spread, LabelledExample(id="empty", body="   ", type="complaint")]
    result = train_model(examples, out_dir=tmp_path, folds=2, save=False, clock=SYSTEM_CLOCK)
    assert result.version is None
    assert result.metadata["training_examples"] == len(spread) + 1
    assert result.metadata["training_examples_used"] == len(spread)


class _StoppedClock:
    """A clock standing at one moment: training reads the time from it, never from the machine."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def test_the_version_and_created_at_come_from_the_clock_passed_in(
    small_training_set: list[LabelledExample], tmp_path: Path
) -> None:
    spread = small_training_set[::6][:60]
    moment = datetime(2031, 7, 8, 9, 10, 11, tzinfo=UTC)
    result = train_model(spread, out_dir=tmp_path, folds=2, clock=_StoppedClock(moment))
    assert result.version is not None and result.version.startswith("20310708T091011Z-")
    assert result.metadata["created_at"] == "2031-07-08T09:10:11+00:00"
