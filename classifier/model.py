"""The trained model: feature builder, calibrated type classifier, category and flag classifiers.

Everything here is plain scikit-learn / NumPy so it saves with skops (see persistence.py). A model
loaded from its inference form (classifier/inference.py) holds no estimators, only the arrays its
scorer and explanation read: scikit-learn is imported only by the functions that fit or read estimators.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from classifier.data import LabelledExample
from classifier.features import FeatureBuilder, FeatureSettings, TextForModel
from classifier.scoring import LinearScorer
from triage_rules.taxonomy import CATEGORIES

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

RANDOM_STATE = 13
# Saved with a model whose category thresholds apply to P(complaint) x P(category | complaint).
CATEGORY_SCORES_WEIGHTED = "complaint_probability_x_category_probability"


@dataclass(frozen=True)
class ModelSettings:
    """Hyper-parameters; the defaults were chosen by cross-validation on TRAIN (docs/classifier.md)."""

    features: FeatureSettings = field(default_factory=FeatureSettings)
    type_estimator: str = "svm"  # "svm" (LinearSVC + sigmoid calibration) or "logreg"
    type_c: float = 2.0
    calibration_folds: int = 5
    type_tol: float = 1e-3  # LinearSVC stopping tolerance: same scores as 1e-4, a quarter faster
    category_c: float = 8.0
    flag_c: float = 8.0
    category_default_threshold: float = 0.5


@dataclass(frozen=True)
class Predictions:
    type_probabilities: np.ndarray  # (n, len(types))
    category_probabilities: np.ndarray  # (n, len(categories))
    flag_probabilities: dict[str, np.ndarray]  # flag -> (n,), only flags with a model


def _type_classifier(settings: ModelSettings, smallest_class: int | None = None) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if settings.type_estimator == "logreg":
        return LogisticRegression(C=settings.type_c, class_weight="balanced", max_iter=3000)
    if settings.type_estimator == "svm":
        # A rare class (a handful of junk items in a small training set) must still fit every fold.
        folds = settings.calibration_folds if smallest_class is None else max(2, min(settings.calibration_folds,
                                                                                     smallest_class))
        return CalibratedClassifierCV(
            LinearSVC(C=settings.type_c, class_weight="balanced", tol=settings.type_tol), method="sigmoid", cv=folds
        )
    raise ValueError(f"unknown type_estimator {settings.type_estimator!r}: expected 'svm' or 'logreg'")


def compact(estimator: Any) -> Any:
    """Store linear weights as float32: half the file size, same predictions to ~1e-6."""
    for inner in _linear_parts(estimator):
        inner.coef_ = np.asarray(inner.coef_, dtype=np.float32)
        inner.intercept_ = np.asarray(inner.intercept_, dtype=np.float32)
    return estimator


def _linear_parts(estimator: Any) -> list[Any]:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.multiclass import OneVsRestClassifier

    if isinstance(estimator, CalibratedClassifierCV):
        return [part.estimator for part in estimator.calibrated_classifiers_]
    if isinstance(estimator, OneVsRestClassifier):
        return [part for part in estimator.estimators_ if hasattr(part, "coef_")]
    return [estimator] if hasattr(estimator, "coef_") else []


def _binary_classifier(c: float) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    # The dual problem: with far more features than examples it solves ~15x faster, same answer.
    return LogisticRegression(C=c, class_weight="balanced", max_iter=3000, solver="liblinear", dual=True)


@dataclass
class TriageModel:
    settings: ModelSettings
    builder: FeatureBuilder
    types: tuple[str, ...]
    categories: tuple[str, ...]
    type_classifier: Any
    category_classifier: OneVsRestClassifier | None
    category_thresholds: np.ndarray
    # per category: the (lower) probability at which a category-hint rule adds it (>1: hints unused)
    category_hint_thresholds: np.ndarray | None = None
    flag_classifiers: dict[str, LogisticRegression] = field(default_factory=dict)
    flag_thresholds: dict[str, float] = field(default_factory=dict)
    # flag -> the flag-model probability a safety-net rule needs to raise it (decision.SAFETY_NET_RULES)
    confirm_thresholds: dict[str, float] = field(default_factory=dict)
    # True: a category is chosen on P(complaint) x P(category | complaint), its thresholds chosen over
    # every item the decision calls a complaint (training.py). False: on P(category | complaint) alone,
    # thresholds chosen over true complaints (models saved before the seventh session).
    categories_weighted_by_complaint: bool = False
    # A complaint none of whose categories passes its threshold gets its most likely one only when that
    # scores at least this (0: always, as models saved before the seventh session do).
    top_category_floor: float = 0.0
    # The inference form's (classifier/inference.py), which has no estimators: the explanation's word
    # weights (per type, per category) as saved; None when they are read from the estimators.
    explainer_weights: tuple[np.ndarray, dict[str, np.ndarray]] | None = field(default=None, repr=False,
                                                                                 compare=False)
    _scorer: LinearScorer | None = field(default=None, repr=False, compare=False)
    _scorer_key: tuple[object, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(
        cls,
        inputs: Sequence[TextForModel],
        examples: Sequence[LabelledExample],
        settings: ModelSettings,
        *,
        flags_to_model: Sequence[str] = (),
    ) -> TriageModel:
        from sklearn.multiclass import OneVsRestClassifier

        builder = FeatureBuilder(settings.features)
        features = builder.fit_transform(inputs)
        weights = np.array([example.weight for example in examples], dtype=np.float64)
        labels = np.array([example.type for example in examples])
        # A type with a single example cannot be learnt (nor calibrated): it is left out of the type
        # model (e.g. one junk item in a small training set); its rows still train the rest.
        names, counts = np.unique(labels, return_counts=True)
        learnable = np.isin(labels, names[counts >= 2])
        smallest = int(counts[counts >= 2].min())
        type_classifier = compact(_type_classifier(settings, smallest).fit(
            features[learnable], labels[learnable], sample_weight=weights[learnable]))

        categories = tuple(CATEGORIES)
        complaint_rows = np.flatnonzero(labels == "complaint")
        category_classifier = None
        if len(complaint_rows) >= 2:
            targets = category_matrix([examples[int(row)] for row in complaint_rows], categories)
            with warnings.catch_warnings():
                # A category no complaint in this data has is learnt as "never": expected, not news.
                warnings.filterwarnings("ignore", message="Label not .* is present in all training examples")
                category_classifier = compact(OneVsRestClassifier(_binary_classifier(settings.category_c)).fit(
                    features[complaint_rows], targets
                ))
        flag_classifiers: dict[str, LogisticRegression] = {}
        for flag in flags_to_model:
            target = np.array([flag in example.flags for example in examples], dtype=int)
            if 0 < target.sum() < len(target):
                flag_classifiers[flag] = compact(_binary_classifier(settings.flag_c).fit(
                    features, target, sample_weight=weights
                ))
        return cls(
            settings=settings,
            builder=builder,
            types=tuple(type_classifier.classes_),
            categories=categories,
            type_classifier=type_classifier,
            category_classifier=category_classifier,
            category_thresholds=np.full(len(categories), settings.category_default_threshold),
            flag_classifiers=flag_classifiers,
        )

    def features(self, inputs: Sequence[TextForModel]) -> sp.csr_matrix:
        if not inputs:  # the vectorisers refuse an empty batch
            return sp.csr_matrix((0, self.builder.n_features), dtype=np.float32)
        return self.builder.transform(inputs)

    def scorer(self) -> LinearScorer:
        """The fast scorer for the current classifiers (rebuilt if any of them was replaced). The
        inference form's (no estimators) was made from its arrays and is the one there is."""
        if self.type_classifier is None and self._scorer is not None:
            return self._scorer
        key = (id(self.type_classifier), id(self.category_classifier),
               tuple((flag, id(model)) for flag, model in sorted(self.flag_classifiers.items())))
        if self._scorer is None or self._scorer_key != key:
            self._scorer = LinearScorer(self.type_classifier, self.category_classifier, self.flag_classifiers,
                                        len(self.types), len(self.categories))
            self._scorer_key = key
        return self._scorer

    def predict(self, features: sp.csr_matrix) -> Predictions:
        if features.shape[0] == 0:
            return Predictions(np.zeros((0, len(self.types))), np.zeros((0, len(self.categories))),
                               {flag: np.zeros(0) for flag in self.scorer().flag_names})
        types, categories, flags = self.scorer().scores(features)
        return Predictions(types, categories, flags)

    def predict_with_sklearn(self, features: sp.csr_matrix) -> Predictions:
        """The same answers the slow way, through scikit-learn (the reference for tests)."""
        rows = features.shape[0]
        category_probabilities = (self.category_classifier.predict_proba(features)
                                  if self.category_classifier is not None else np.zeros((rows, len(self.categories))))
        return Predictions(
            self.type_classifier.predict_proba(features),
            category_probabilities,
            {flag: classifier.predict_proba(features)[:, 1] for flag, classifier in self.flag_classifiers.items()},
        )

    def category_scores(self, category_probabilities: np.ndarray, complaint_probability: float) -> np.ndarray:
        """What the category thresholds are compared with: the chance the item is a complaint with that
        category when the model was trained that way, else the category model's own probability."""
        if self.categories_weighted_by_complaint:
            return category_probabilities * complaint_probability
        return category_probabilities

    def choose_categories(self, probabilities: np.ndarray, hinted: Sequence[str] = ()) -> list[str]:
        """Categories over their threshold, or over their hint threshold when a category-hint rule
        named them (`hinted`); a complaint gets at least its most likely one if that reaches
        `top_category_floor` (a guess below it was more often wrong than right on cross-validated TRAIN)."""
        hint_thresholds = (self.category_hint_thresholds if self.category_hint_thresholds is not None
                           else np.full(len(self.categories), 2.0))
        chosen = [name for name, p, t, h in zip(self.categories, probabilities, self.category_thresholds,
                                                hint_thresholds, strict=True)
                  if p >= t or (name in hinted and p >= h)]
        if not chosen and len(probabilities) and float(np.max(probabilities)) >= self.top_category_floor:
            chosen = [self.categories[int(np.argmax(probabilities))]]
        return chosen

    def row_probabilities(self, flag_probabilities: dict[str, np.ndarray], row: int) -> dict[str, float]:
        """Every flag model's probability for one row."""
        return {flag: float(probabilities[row]) for flag, probabilities in flag_probabilities.items()}

    def model_flags(self, flag_probabilities: dict[str, np.ndarray], row: int) -> dict[str, float]:
        """The flags the flag models raise for one row, with their probabilities."""
        return {
            flag: float(probabilities[row]) for flag, probabilities in flag_probabilities.items()
            if flag in self.flag_thresholds and probabilities[row] >= self.flag_thresholds[flag]
        }

    # -- persistence: plain containers of scikit-learn objects -------------------------------------
    def to_parts(self) -> dict[str, Any]:
        return {
            "vectorizers": self.builder.parts(),
            "types": list(self.types),
            "categories": list(self.categories),
            "type_classifier": self.type_classifier,
            "category_classifier": self.category_classifier,
            "category_thresholds": np.asarray(self.category_thresholds, dtype=np.float64),
            **({"category_hint_thresholds": np.asarray(self.category_hint_thresholds, dtype=np.float64)}
               if self.category_hint_thresholds is not None else {}),
            "flag_classifiers": dict(self.flag_classifiers),
            "flag_thresholds": {flag: float(value) for flag, value in self.flag_thresholds.items()},
            "confirm_thresholds": {flag: float(value) for flag, value in self.confirm_thresholds.items()},
            **({"category_scores": CATEGORY_SCORES_WEIGHTED} if self.categories_weighted_by_complaint else {}),
            **({"top_category_floor": float(self.top_category_floor)} if self.top_category_floor else {}),
        }

    @classmethod
    def from_parts(cls, parts: dict[str, Any], settings: ModelSettings) -> TriageModel:
        return cls(
            settings=settings,
            builder=FeatureBuilder.from_parts(parts["vectorizers"], settings.features),
            types=tuple(parts["types"]),
            categories=tuple(parts["categories"]),
            type_classifier=parts["type_classifier"],
            category_classifier=parts["category_classifier"],
            category_thresholds=np.asarray(parts["category_thresholds"], dtype=np.float64),
            # models saved before hint thresholds existed: hints unused (decision.RULE_CATEGORIES still apply)
            category_hint_thresholds=(np.asarray(parts["category_hint_thresholds"], dtype=np.float64)
                                      if "category_hint_thresholds" in parts else None),
            flag_classifiers=dict(parts["flag_classifiers"]),
            flag_thresholds=dict(parts["flag_thresholds"]),
            # models saved before the safety-net confirmation existed have none: every rule counts
            confirm_thresholds=dict(parts.get("confirm_thresholds", {})),
            # models saved before the seventh session score categories on P(category | complaint) alone
            categories_weighted_by_complaint=parts.get("category_scores") == CATEGORY_SCORES_WEIGHTED,
            top_category_floor=float(parts.get("top_category_floor", 0.0)),
        )


def category_matrix(examples: Sequence[LabelledExample], categories: Sequence[str]) -> np.ndarray:
    return np.array([[name in example.categories for name in categories] for example in examples], dtype=int)
