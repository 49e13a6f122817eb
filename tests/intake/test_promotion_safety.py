"""The promotion gate never lets a retrain lose safety: a candidate whose urgent_safety or
safeguarding recall on the TEST split is lower than the version in use is refused, however good
its other figures are."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier import Classifier, ModelRegistry
from classifier.data import load_examples, seed_files, split_examples
from intake.learning_loop import SAFETY_FLAGS, decide_promotion, evaluate_versions


def _report(**overrides: float) -> dict[str, dict[str, float]]:
    test = {"n": 600.0, "type_macro_f1": 0.80, "queue_accuracy": 0.85, "type_accuracy": 0.82,
            "urgent_safety_recall": 0.97, "safeguarding_recall": 0.90}
    test.update(overrides)
    return {"test": test}


def test_safety_flags_are_urgent_safety_and_safeguarding() -> None:
    assert SAFETY_FLAGS == ("urgent_safety", "safeguarding")


@pytest.mark.parametrize("flag", ["urgent_safety", "safeguarding"])
def test_a_candidate_that_misses_more_safety_messages_is_refused_even_if_better_elsewhere(flag: str) -> None:
    current = _report()
    candidate = _report(type_macro_f1=0.90, queue_accuracy=0.95, **{f"{flag}_recall": current["test"][f"{flag}_recall"] - 0.01})

    decision = decide_promotion(current, candidate)

    assert not decision.promote
    assert f"{flag}_recall" in decision.reason
    assert any(line.endswith("(WORSE)") and f"{flag}_recall" in line for line in decision.lines())


def test_safety_recall_has_no_noise_allowance_unlike_the_other_figures() -> None:
    current = _report()
    slightly_lower_f1 = _report(type_macro_f1=0.80 - 0.004)
    assert decide_promotion(current, slightly_lower_f1).promote
    assert not decide_promotion(current, _report(urgent_safety_recall=0.97 - 0.004)).promote


def test_equal_or_better_safety_recall_is_promoted() -> None:
    current = _report()
    assert decide_promotion(current, _report()).promote
    assert decide_promotion(current, _report(urgent_safety_recall=1.0, safeguarding_recall=0.95)).promote


def test_the_evaluation_of_a_real_model_reports_its_urgent_safety_recall(trained_model_dir: Path) -> None:
    _, test = split_examples(load_examples(seed_files()))
    safety = [example for example in test if "urgent_safety" in example.flags][:40]
    assert len(safety) >= 10
    version = ModelRegistry(trained_model_dir).current_version()
    assert version is not None

    _, current, candidate = evaluate_versions(trained_model_dir, version, test=safety, fresh=[])

    assert current is None  # the candidate is the version in use: nothing to compare with
    found = [r for r in Classifier.load(trained_model_dir).classify_many(safety) if "urgent_safety" in r.flags]
    assert candidate["test"]["urgent_safety_recall"] == pytest.approx(len(found) / len(safety), abs=1e-4)


@pytest.mark.parametrize("flag", ["urgent_safety", "safeguarding"])
def test_a_candidate_whose_safety_recall_could_not_be_measured_is_refused(flag: str) -> None:
    # A gate that skips a figure it cannot read would promote a model nobody checked for safety.
    candidate = _report()
    del candidate["test"][f"{flag}_recall"]

    decision = decide_promotion(_report(), candidate)

    assert not decision.promote
    assert f"{flag}_recall" in decision.reason
