"""Thresholds chosen from cross-validated predictions on TRAIN (never on the test split)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

GRID = np.round(np.arange(0.05, 0.96, 0.025), 3)


def f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    true_positive = float(np.sum(truth & predicted))
    denominator = float(np.sum(truth) + np.sum(predicted))
    return 2 * true_positive / denominator if denominator else 1.0


def recall(truth: np.ndarray, predicted: np.ndarray) -> float:
    positives = float(np.sum(truth))
    return float(np.sum(truth & predicted)) / positives if positives else 1.0


def best_f1_threshold(probabilities: np.ndarray, truth: np.ndarray, default: float = 0.5) -> float:
    """The threshold with the highest F1 (ties: the one nearest `default`)."""
    truth = truth.astype(bool)
    if not truth.any():
        return default
    scores = [(f1(truth, probabilities >= threshold), -abs(threshold - default), threshold) for threshold in GRID]
    return float(max(scores)[2])


def category_thresholds(probabilities: np.ndarray, truth: np.ndarray, default: float = 0.5) -> np.ndarray:
    """One F1-best threshold per category column."""
    return np.array(
        [best_f1_threshold(probabilities[:, column], truth[:, column], default) for column in range(truth.shape[1])]
    )


@dataclass(frozen=True)
class FlagChoice:
    flag: str
    use_model: bool
    threshold: float
    rules_f1: float
    combined_f1: float
    rules_recall: float
    combined_recall: float


def choose_flag_model(
    flag: str,
    *,
    rule_flags: np.ndarray,
    model_probabilities: np.ndarray,
    truth: np.ndarray,
    min_gain: float = 0.01,
) -> FlagChoice:
    """Use the model (OR'ed with the rules) only when it raises F1 by `min_gain` without losing recall."""
    truth = truth.astype(bool)
    rule_flags = rule_flags.astype(bool)
    base_f1, base_recall = f1(truth, rule_flags), recall(truth, rule_flags)
    best = (base_f1, 0.5)
    for threshold in GRID:
        if threshold < 0.3:
            continue  # a model that needs a very low threshold to help is guessing
        combined = rule_flags | (model_probabilities >= threshold)
        score = f1(truth, combined)
        if score > best[0]:
            best = (score, float(threshold))
    combined = rule_flags | (model_probabilities >= best[1])
    use = best[0] >= base_f1 + min_gain and recall(truth, combined) >= base_recall
    return FlagChoice(
        flag=flag, use_model=use, threshold=best[1], rules_f1=base_f1, combined_f1=best[0],
        rules_recall=base_recall, combined_recall=recall(truth, combined),
    )


@dataclass(frozen=True)
class ReviewChoice:
    threshold: float
    routed_accuracy: float  # queue accuracy of the items not sent to review (cross-validated)
    automation_rate: float  # share of items not sent to review
    target: float
    met: bool  # False when no threshold reaches the target (then the strictest one is used)


def choose_review_threshold(
    confidences: np.ndarray,
    queue_correct_at: Callable[[float], tuple[np.ndarray, np.ndarray]],
    *,
    target: float,
    grid: Sequence[float] | None = None,
) -> ReviewChoice:
    """The lowest threshold at which routed items are right at least `target` of the time.

    `queue_correct_at(threshold)` returns (routed, correct) boolean arrays for that threshold: the
    caller simulates routing exactly as classify() does.
    """
    candidates = sorted(set(grid if grid is not None else np.round(np.arange(0.20, 0.99, 0.01), 2)))
    last: ReviewChoice | None = None
    for threshold in candidates:
        routed, correct = queue_correct_at(float(threshold))
        automation = float(routed.mean()) if len(routed) else 0.0
        accuracy = float(correct[routed].mean()) if routed.any() else 1.0
        last = ReviewChoice(float(threshold), accuracy, automation, target, accuracy >= target)
        if accuracy >= target:
            return last
    if last is None:
        raise ValueError("no candidate thresholds")
    return last
