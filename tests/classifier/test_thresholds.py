"""Threshold choices made on cross-validated predictions."""

from __future__ import annotations

import numpy as np

from classifier.thresholds import best_f1_threshold, choose_flag_model, choose_review_threshold


def test_best_f1_threshold_separates_the_classes() -> None:
    probabilities = np.array([0.1, 0.2, 0.35, 0.4, 0.8, 0.9])
    truth = np.array([0, 0, 0, 1, 1, 1])
    threshold = best_f1_threshold(probabilities, truth)
    assert 0.35 < threshold <= 0.4


def test_flag_model_is_used_only_when_it_helps() -> None:
    truth = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    rules = np.array([1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    helpful = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.1, 0.0, 0.1])
    choice = choose_flag_model("abusive", rule_flags=rules, model_probabilities=helpful, truth=truth)
    assert choice.use_model
    assert choice.combined_f1 == 1.0
    useless = np.array([0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9])
    assert not choose_flag_model("abusive", rule_flags=rules, model_probabilities=useless, truth=truth).use_model


def test_review_threshold_is_the_lowest_that_meets_the_target() -> None:
    confidences = np.array([0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.99, 0.99])
    correct = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1], dtype=bool)

    def at(threshold: float) -> tuple[np.ndarray, np.ndarray]:
        return confidences >= threshold, correct

    choice = choose_review_threshold(confidences, at, target=0.95)
    assert choice.met
    assert 0.5 < choice.threshold <= 0.6
    assert choice.routed_accuracy == 1.0
    assert choice.automation_rate == 0.8


def test_review_threshold_reports_when_the_target_cannot_be_met() -> None:
    confidences = np.array([0.99, 0.99])
    correct = np.array([True, False])
    choice = choose_review_threshold(confidences, lambda t: (confidences >= t, correct), target=0.95)
    assert not choice.met
