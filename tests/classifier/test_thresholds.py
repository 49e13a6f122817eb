"""Threshold choices made on cross-validated predictions."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.thresholds import (
    HINT_UNUSED,
    best_f1_threshold,
    category_hint_thresholds,
    choose_flag_model,
    choose_review_threshold,
    wilson_lower_bound,
)


def test_best_f1_threshold_separates_the_classes() -> None:
    probabilities = np.array([0.1, 0.2, 0.35, 0.4, 0.8, 0.9])
    truth = np.array([0, 0, 0, 1, 1, 1])
    threshold = best_f1_threshold(probabilities, truth)
    assert 0.35 < threshold <= 0.4


def test_a_category_hint_is_used_where_it_finds_cases_the_model_ranks_low() -> None:
    # Column 0: three positives the model ranks below two negatives (0.2 < 0.3) all carry the rule
    # hint; the one negative with a hint has 0.05. Column 1: the hint fires on negatives only.
    probabilities = np.array([[0.9, 0.9], [0.8, 0.8], [0.2, 0.1], [0.2, 0.1], [0.2, 0.1], [0.05, 0.1],
                              [0.3, 0.05], [0.3, 0.05]])
    truth = np.array([[1, 1], [1, 1], [1, 0], [1, 0], [1, 0], [0, 0], [0, 0], [0, 0]])
    hinted = np.array([[0, 0], [0, 0], [1, 1], [1, 1], [1, 1], [1, 0], [0, 0], [0, 0]], dtype=bool)
    thresholds, hint_thresholds = category_hint_thresholds(probabilities, truth, hinted)
    assert 0.05 < hint_thresholds[0] <= 0.2  # the hint needs the model to agree a little
    assert thresholds[0] > 0.3  # no threshold alone separates the classes; with the hint, all are right
    assert hint_thresholds[1] == HINT_UNUSED
    assert 0.1 < thresholds[1] <= 0.8


def test_flag_model_is_used_only_when_it_helps() -> None:
    truth = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    rules = np.array([1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    helpful = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.1, 0.0, 0.1])
    choice = choose_flag_model("abusive", rule_flags=rules, model_probabilities=helpful, truth=truth)
    assert choice.use_model
    assert choice.combined_f1 == 1.0
    useless = np.array([0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9])
    assert not choose_flag_model("abusive", rule_flags=rules, model_probabilities=useless, truth=truth).use_model


def test_review_threshold_is_the_lowest_whose_lower_bound_meets_the_target() -> None:
    confidences = np.linspace(0.0, 1.0, 1000)
    # Below 0.5 every other item is wrong; from 0.5 up all are right.
    correct = (confidences >= 0.5) | (np.arange(1000) % 2 == 0)

    def at(threshold: float) -> tuple[np.ndarray, np.ndarray]:
        return confidences >= threshold, correct

    choice = choose_review_threshold(confidences, at, target=0.95)
    assert choice.met
    assert 0.42 < choice.threshold <= 0.5
    assert choice.routed_accuracy_lower_bound >= 0.95
    assert choice.routed_accuracy > choice.routed_accuracy_lower_bound
    assert choice.automation_rate == np.mean(confidences >= choice.threshold)


def test_wilson_bound_is_below_the_observed_share_and_tightens_with_more_data() -> None:
    assert wilson_lower_bound(95, 100) < 0.95
    assert wilson_lower_bound(950, 1000) > wilson_lower_bound(95, 100)
    assert wilson_lower_bound(0, 0) == 0.0


def test_review_threshold_reports_when_the_target_cannot_be_met() -> None:
    confidences = np.array([0.99, 0.99])
    correct = np.array([True, False])
    choice = choose_review_threshold(confidences, lambda t: (confidences >= t, correct), target=0.95)
    assert not choice.met


def test_items_routed_whatever_the_confidence_bound_the_routed_accuracy() -> None:
    # 100 items: 10 flagged ones routed at every threshold, 4 of them to the wrong queue (false
    # alarms); 90 the threshold decides, all right when routed. No threshold can do better than 6 of
    # 10 right among the flagged ones, so the target is out of reach whatever the automation.
    confidences = np.concatenate([np.zeros(10), np.linspace(0.3, 1.0, 90)])
    flagged = np.arange(100) < 10
    correct = ~(np.arange(100) < 4)

    def at(threshold: float) -> tuple[np.ndarray, np.ndarray]:
        return flagged | (confidences >= threshold), correct

    choice = choose_review_threshold(confidences, at, target=0.96, min_automation=0.5)
    assert not choice.met
    assert choice.unavoidable_errors == 4
    routed = int(np.sum(at(choice.threshold)[0]))
    assert choice.routed_accuracy_ceiling == pytest.approx((routed - 4) / routed)
    assert choice.routed_accuracy == pytest.approx(choice.routed_accuracy_ceiling)  # every other routed item is right
    assert choice.routed_accuracy_ceiling < 0.96


def test_recall_first_flag_keeps_a_threshold_that_finds_most_cases() -> None:
    truth = np.array([1] * 10 + [0] * 10, dtype=bool)
    rules = np.zeros(20, dtype=bool)
    probabilities = np.concatenate([np.linspace(0.35, 0.95, 10), np.linspace(0.0, 0.5, 10)])
    choice = choose_flag_model("urgent_safety", rule_flags=rules, model_probabilities=probabilities, truth=truth,
                               recall_first=True, min_recall=0.9)
    assert choice.use_model
    assert choice.model_recall >= 0.9
    assert choice.threshold <= 0.45


def test_recall_first_asks_the_safety_net_rules_for_model_agreement_only_when_no_case_is_lost() -> None:
    # 10 cases: 5 found by a specific rule, 5 by a safety-net rule with some model support; 10
    # non-cases hit by the safety net where the model says no.
    truth = np.array([1] * 10 + [0] * 10, dtype=bool)
    rules = np.ones(20, dtype=bool)
    net_only = np.array([False] * 5 + [True] * 5 + [True] * 10)
    probabilities = np.array([0.9] * 5 + [0.2] * 5 + [0.01] * 10)
    choice = choose_flag_model("urgent_safety", rule_flags=rules, model_probabilities=probabilities, truth=truth,
                               recall_first=True, safety_net_only=net_only)
    assert choice.combined_recall == 1.0
    assert 0.01 < choice.confirm_threshold <= 0.2
    assert choice.combined_precision == 1.0


def test_recall_first_holds_the_precision_floor_rather_than_chase_one_case_the_model_barely_ranks() -> None:
    # 10 cases the model ranks high and one it gives 0.12, below 20 non-cases at 0.12-0.3: finding
    # that last case would take the threshold to 0.1 and precision to 11/31.
    truth = np.array([1] * 10 + [1] + [0] * 20, dtype=bool)
    rules = np.zeros(31, dtype=bool)
    probabilities = np.concatenate([np.full(10, 0.9), [0.12], np.linspace(0.12, 0.3, 20)])
    choice = choose_flag_model("safeguarding", rule_flags=rules, model_probabilities=probabilities, truth=truth,
                               recall_first=True, min_precision_recall_first=0.75)
    assert choice.combined_precision >= 0.75
    assert choice.combined_recall == 10 / 11
    assert 0.12 < choice.threshold <= 0.3  # the lowest that keeps the floor: the model still catches the most
