"""Category choice and routing ceiling on cross-validated TRAIN, with every choice scored honestly.

    python -m classifier.category_cv

Cross-validates the seed TRAIN split as `train_model` does (same folds), then compares three ways of
choosing a complaint's categories by category micro-F1 over every item (the held-out report's
measure: the categories a wrong type brings count). Each way's thresholds are chosen on four folds'
out-of-fold predictions and scored on the fifth, so threshold fitting does not flatter it:

- before: P(category | complaint), thresholds chosen on true complaints, the top category always given;
- weighted: P(complaint) x P(category | complaint), thresholds chosen on items called complaints;
- weighted + floor: and the top category given only when it reaches a floor (the shipped choice).

It also prints the review threshold's ceiling: the routed accuracy no threshold can beat because
items routed whatever the confidence (safety and safeguarding flags, junk) sit in the wrong queue.
Reads TRAIN only (docs/classifier.md, seventh session).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.model_selection import StratifiedKFold

from classifier.data import load_examples, seed_files, split_examples
from classifier.model import RANDOM_STATE, ModelSettings, category_matrix
from classifier.thresholds import category_hint_thresholds
from classifier.training import (
    TOP_CATEGORY_FLOORS,
    _choose_flags,
    _top_category_floor,
    choose_review,
    encode_examples,
    fit_with_cross_validation,
    out_of_fold_predictions,
)
from triage_rules.rules import category_hints_from


def main() -> None:
    train = split_examples(load_examples(seed_files()))[0]
    kept, encoded = encode_examples(train)
    settings = ModelSettings()
    inputs = [item.model_input for item in encoded]
    model, out_of_fold = fit_with_cross_validation(inputs, kept, settings)  # type: ignore[arg-type]
    assert model is not None
    choices = _choose_flags(kept, encoded, out_of_fold)
    model.flag_thresholds = {choice.flag: choice.threshold for choice in choices if choice.use_model}
    model.confirm_thresholds = {choice.flag: choice.confirm_threshold for choice in choices
                                if choice.use_model and choice.confirm_threshold > 0}
    decided = out_of_fold_predictions(model, encoded, out_of_fold, 0.0)
    called = np.array([prediction.type == "complaint" for prediction in decided])
    truly = np.array([example.type == "complaint" for example in kept])
    truth = category_matrix(kept, model.categories).astype(bool)
    hinted = np.array([[name in category_hints_from(item.hits) for name in model.categories] for item in encoded])
    complaint = out_of_fold.type_probabilities[:, [list(model.types).index("complaint")]]
    # the folds train_model used: every item is out of fold exactly once
    folds = np.zeros(len(kept), dtype=int)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=RANDOM_STATE)
    for fold, (_, rows) in enumerate(splitter.split(np.zeros(len(kept)), [example.type for example in kept])):
        folds[rows] = fold

    def nested(weighted: bool, floor: bool) -> float:
        scores = out_of_fold.category_probabilities * complaint if weighted else out_of_fold.category_probabilities
        chosen_on = called if weighted else truly
        predicted = np.zeros_like(truth)
        for fold in range(5):
            fit_rows, score_rows = (folds != fold) & chosen_on, (folds == fold) & called
            thresholds, hints = category_hint_thresholds(scores[fit_rows], truth[fit_rows], hinted[fit_rows])
            trial = replace(model, category_thresholds=thresholds, category_hint_thresholds=hints,
                            top_category_floor=0.0)
            if floor:
                fit_called = (folds != fold) & called
                within = fit_called[folds != fold]
                trial.top_category_floor = _top_category_floor(trial, scores[fit_called], hinted[fit_called],
                                                               truth[folds != fold], within)
            names = list(model.categories)
            for row in np.flatnonzero(score_rows):
                hints_named = [name for name, hint in zip(names, hinted[row], strict=True) if hint]
                picked = trial.choose_categories(scores[row], hinted=hints_named)
                predicted[row] = [name in picked for name in names]
        found = int(predicted.sum()) + int(truth.sum())
        return 2 * int((predicted & truth).sum()) / found if found else 1.0

    print(f"TRAIN {len(kept)} items, floors tried {TOP_CATEGORY_FLOORS}")
    print("category micro-F1 over all items, thresholds chosen on four folds and scored on the fifth:")
    for label, weighted, floor in (("before", False, False), ("weighted", True, False),
                                   ("weighted + floor (shipped)", True, True)):
        print(f"  {label:28s} {nested(weighted, floor):.4f}")
    review = choose_review(model, kept, encoded, out_of_fold)
    print(f"review threshold {review.threshold:.2f}: routed accuracy {review.routed_accuracy:.4f} at automation "
          f"{review.automation_rate:.4f}; {review.unavoidable_errors} items routed whatever the confidence are "
          f"wrong, so at most {review.routed_accuracy_ceiling:.4f} at this automation")


if __name__ == "__main__":
    main()
