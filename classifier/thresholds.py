"""Thresholds chosen from cross-validated predictions on TRAIN (never on the test split)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

GRID = np.round(np.arange(0.05, 0.96, 0.025), 3)
# Model probabilities a safety-net rule hit may be asked to reach (0: the rule alone suffices).
CONFIRM_GRID = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3)


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


# "Never": a hint threshold above any probability means the rule hint is not used for that category.
HINT_UNUSED = 2.0
HINT_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def category_hint_thresholds(
    probabilities: np.ndarray, truth: np.ndarray, hinted: np.ndarray, default: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Per category, a pair (threshold, hint threshold): the category is chosen when the model's
    probability reaches the threshold, or a category-hint rule fired and it reaches the (lower) hint
    threshold. The pair with the best F1 on cross-validated predictions wins (ties: hints unused,
    then the threshold nearest `default`); a rule hint then needs the model to agree a little,
    which keeps a rule that fires on any mention of a wheelchair from adding discrimination alone.
    """
    truth = truth.astype(bool)
    hinted = hinted.astype(bool)
    thresholds, hint_thresholds = [], []
    for column in range(truth.shape[1]):
        if not truth[:, column].any():
            thresholds.append(default)
            hint_thresholds.append(HINT_UNUSED)
            continue
        p, t, h = probabilities[:, column], truth[:, column], hinted[:, column]
        best = None
        for hint_at in (HINT_UNUSED, *HINT_GRID) if h.any() else (HINT_UNUSED,):
            for threshold in GRID:
                if hint_at >= threshold and hint_at != HINT_UNUSED:
                    continue
                predicted = (p >= threshold) | (h & (p >= hint_at))
                key = (round(f1(t, predicted), 6), hint_at == HINT_UNUSED, -abs(threshold - default))
                if best is None or key > best[0]:
                    best = (key, float(threshold), float(hint_at))
        assert best is not None
        thresholds.append(best[1])
        hint_thresholds.append(best[2])
    return np.array(thresholds), np.array(hint_thresholds)


@dataclass(frozen=True)
class FlagChoice:
    flag: str
    use_model: bool
    threshold: float
    model_precision: float  # of the model alone, out of fold, at `threshold`
    model_recall: float
    combined_precision: float  # rules OR model, out of fold (the rules' part is optimistic on TRAIN)
    rules_f1: float  # on TRAIN, where the rules were written: optimistic
    combined_f1: float
    rules_recall: float
    combined_recall: float
    policy: str
    # recall first only: the model probability a safety-net-only rule hit needs (0: every hit counts)
    confirm_threshold: float = 0.0


def _precision_recall(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    hits = float(np.sum(truth & predicted))
    return (hits / float(np.sum(predicted)) if predicted.any() else 1.0), recall(truth, predicted)


def choose_flag_model(
    flag: str,
    *,
    rule_flags: np.ndarray,
    model_probabilities: np.ndarray,
    truth: np.ndarray,
    recall_first: bool = False,
    min_recall: float = 0.93,
    min_precision: float = 0.95,
    min_useful_recall: float = 0.3,
    min_precision_recall_first: float = 0.75,
    safety_net_only: np.ndarray | None = None,
) -> FlagChoice:
    """Whether to OR a flag model with the rules, and at which threshold.

    The rules were written while reading the TRAIN split, so on TRAIN they look nearly perfect and
    a model can only seem to add false alarms: the combination cannot be measured fairly there.
    The choice therefore rests on the model alone (out of fold, which is fair):

    - recall first (urgent_safety, safeguarding): among the thresholds at which rules OR model find
      every case out of fold, the lowest whose precision reaches `min_precision_recall_first` (the
      queue must stay usable), so the model catches as much new wording as that allows. Items the
      flag reaches only through the wide safety-net rules (`safety_net_only`) may need the model to
      agree a little: the confirm threshold is chosen with the model threshold, on the same terms.
      When no pair finding every case is that precise, the floor holds: the pair finding the most
      cases among those that reach it;
    - otherwise: the lowest threshold at which the model alone is right `min_precision` of the
      time, so what it adds is almost always correct; unused if it then finds under
      `min_useful_recall` of the cases.
    """
    truth = truth.astype(bool)
    rule_flags = rule_flags.astype(bool)
    candidates = [float(t) for t in GRID if t >= 0.1]
    confirm = 0.0
    net_only = (safety_net_only.astype(bool) if safety_net_only is not None
                else np.zeros_like(rule_flags, dtype=bool))
    if recall_first:
        # The decision is "specific rules OR (safety-net rules AND model >= confirm) OR model >= t".
        # Recall first: only pairs at which that finds every case out of fold (or as many as any
        # pair does) are allowed. Among them, the lowest t — the model catching the most new
        # wordings — whose out-of-fold precision still reaches `min_precision_recall_first`, so the
        # queue stays usable (ties: the stricter confirm threshold); if none does, the pair with the
        # best recall among all pairs that reach it (the floor wins over the last case); if no pair
        # reaches it at all, the most precise of the full-recall pairs.
        specific = rule_flags & ~net_only
        scored = []
        for confirm_at in CONFIRM_GRID if net_only.any() else (0.0,):
            for t in candidates:
                if confirm_at >= t:
                    continue
                predicted = specific | (net_only & (model_probabilities >= confirm_at)) | (model_probabilities >= t)
                scored.append((t, confirm_at, recall(truth, predicted), _precision_recall(truth, predicted)[0]))
        best_recall = max(r for _, _, r, _ in scored)
        allowed = [(t, c, p) for t, c, r, p in scored if r >= best_recall]
        precise = [(t, -c) for t, c, p in allowed if p >= min_precision_recall_first]
        # When every case is found only at a precision under the floor (one odd wording the model
        # barely ranks), the floor holds and recall gives: the pair finding the most cases among
        # those still precise enough. Chasing the last case had put the threshold at 0.1 and the
        # out-of-fold precision at 0.35 once blind writers' items joined TRAIN (safeguard, 5 Dec).
        floor_kept = [(r, -t, c) for t, c, r, p in scored if p >= min_precision_recall_first]
        if precise:
            threshold, negative_confirm = min(precise)
            confirm = -negative_confirm
        elif floor_kept:
            _, negative_threshold, confirm = max(floor_kept)
            threshold = -negative_threshold
        else:
            threshold, confirm, _ = max(allowed, key=lambda triple: (triple[2], -triple[0], triple[1]))
        use = bool(truth.any())
        policy = (f"recall first: rules OR model find {best_recall:.3f} of the cases out of fold; lowest threshold "
                  f"with precision >= {min_precision_recall_first:.2f} (else the best recall at that precision); "
                  f"safety-net rules "
                  f"confirmed at model probability >= {confirm:.2f}")
    else:
        passing = [t for t in candidates
                   if _precision_recall(truth, model_probabilities >= t)[0] >= min_precision]
        threshold = min(passing) if passing else 1.0
        use = bool(passing) and recall(truth, model_probabilities >= threshold) >= min_useful_recall
        policy = f"precision first: model alone right >= {min_precision:.2f} of the time"
    model_precision, model_recall = _precision_recall(truth, model_probabilities >= threshold)
    rules_kept = (rule_flags & ~net_only) | (net_only & (model_probabilities >= confirm)) if use else rule_flags
    combined = rules_kept | (model_probabilities >= threshold) if use else rule_flags
    return FlagChoice(
        flag=flag, use_model=use, threshold=threshold, model_precision=model_precision, model_recall=model_recall,
        combined_precision=_precision_recall(truth, combined)[0],
        rules_f1=f1(truth, rule_flags), combined_f1=f1(truth, combined), rules_recall=recall(truth, rule_flags),
        combined_recall=recall(truth, combined), policy=policy, confirm_threshold=confirm,
    )


# A review threshold no confidence reaches: every item goes to review unless a flag routes it anyway.
UNREACHABLE_CONFIDENCE = 2.0


@dataclass(frozen=True)
class ReviewChoice:
    threshold: float
    routed_accuracy: float  # queue accuracy of the items not sent to review (cross-validated)
    routed_accuracy_lower_bound: float  # one-sided 95% Wilson lower bound of routed_accuracy
    automation_rate: float  # share of items not sent to review
    target: float
    met: bool  # False when no threshold reaches the target (then the strictest one is used)
    # Items routed whatever the confidence (a safety or safeguarding flag, junk) that are in the wrong
    # queue: no review threshold can hold them back, so they bound the routed accuracy from above.
    unavoidable_errors: int = 0
    # The routed accuracy at this automation if every item the threshold does decide were right.
    routed_accuracy_ceiling: float = 1.0


def wilson_lower_bound(successes: int, trials: int, z: float = 1.645) -> float:
    """One-sided lower confidence bound of a proportion (z=1.645: 95%)."""
    if trials == 0:
        return 0.0
    share = successes / trials
    centre = share + z * z / (2 * trials)
    spread = z * np.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return float((centre - spread) / (1 + z * z / trials))


def choose_review_threshold(
    confidences: np.ndarray,
    queue_correct_at: Callable[[float], tuple[np.ndarray, np.ndarray]],
    *,
    target: float,
    grid: Sequence[float] | None = None,
    min_automation: float = 0.0,
) -> ReviewChoice:
    """The lowest threshold at which routed items are right at least `target` of the time.

    "At least" is taken seriously: the one-sided 95% lower bound of the cross-validated routed
    accuracy must reach the target, not just the estimate, so the promise holds on new data with
    some margin. `queue_correct_at(threshold)` returns (routed, correct) boolean arrays for that
    threshold: the caller simulates routing exactly as classify() does.

    Automation never goes below `min_automation`: when the target cannot be met above it, the
    strictest threshold that still automates that share is returned (`met` False) — the most
    accurate routing the automation floor allows. With no floor, the strictest threshold of all.
    """
    candidates = sorted(set(grid if grid is not None else np.round(np.arange(0.20, 0.99, 0.01), 2)))
    # Above any confidence, only the items routed whatever the confidence are routed: their errors
    # stay at every threshold.
    always_routed, always_correct = queue_correct_at(UNREACHABLE_CONFIDENCE)
    unavoidable = int(np.sum(always_routed & ~always_correct))
    last: ReviewChoice | None = None
    for threshold in candidates:
        routed, correct = queue_correct_at(float(threshold))
        automation = float(routed.mean()) if len(routed) else 0.0
        if last is not None and automation < min_automation:
            return last  # automation only falls as the threshold rises
        accuracy = float(correct[routed].mean()) if routed.any() else 1.0
        bound = wilson_lower_bound(int(correct[routed].sum()), int(routed.sum())) if routed.any() else 1.0
        n_routed = int(routed.sum())
        ceiling = (n_routed - unavoidable) / n_routed if n_routed else 1.0
        last = ReviewChoice(float(threshold), accuracy, bound, automation, target, bound >= target,
                            unavoidable, ceiling)
        if bound >= target:
            return last
    if last is None:
        raise ValueError("no candidate thresholds")
    return last
