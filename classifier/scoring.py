"""Fast inference for the linear models: one sparse × dense product instead of ~40 sklearn calls.

scikit-learn validates its input on every `predict_proba` call (for this model: about 70 checks
per message, each costing more than the arithmetic), which made one message take tens of
milliseconds. `LinearScorer` reads the fitted weights once and computes exactly what
scikit-learn would — calibrated SVM folds, logistic regressions, constant predictors — with
NumPy. tests/classifier/test_scoring.py checks it against scikit-learn's own answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier


@dataclass(frozen=True)
class _CalibratedFold:
    columns: slice  # decision columns of this fold's estimator in the stacked matrix
    class_index: np.ndarray  # probability column of each decision column
    a: np.ndarray
    b: np.ndarray


class LinearScorer:
    """Probabilities of a TriageModel's type, category and flag classifiers."""

    def __init__(self, type_classifier: Any, categories: OneVsRestClassifier | None, flags: dict[str, Any],
                 n_types: int, n_categories: int) -> None:
        self._weights: list[np.ndarray] = []
        self._owners: list[tuple[Any, slice]] = []  # (estimator, its columns), until _share_weights
        self._intercepts: list[np.ndarray] = []
        self._width = 0
        self.n_types = n_types
        self.n_categories = n_categories
        self._type_folds: list[_CalibratedFold] = []
        self._type_softmax: slice | None = None
        if isinstance(type_classifier, CalibratedClassifierCV):
            for fold in type_classifier.calibrated_classifiers_:
                if not all(isinstance(c, _SigmoidCalibration) for c in fold.calibrators):
                    raise TypeError("only sigmoid calibration is supported")
                columns = self._add(fold.estimator.coef_, fold.estimator.intercept_, fold.estimator)
                positions = np.searchsorted(fold.classes, fold.estimator.classes_)
                if n_types == 2:
                    positions = np.array([1])
                self._type_folds.append(_CalibratedFold(
                    columns, positions,
                    np.array([c.a_ for c in fold.calibrators]), np.array([c.b_ for c in fold.calibrators]),
                ))
        elif isinstance(type_classifier, LogisticRegression):
            self._type_softmax = self._add(type_classifier.coef_, type_classifier.intercept_, type_classifier)
        else:
            raise TypeError(f"no fast path for {type(type_classifier).__name__}")
        self._category_columns: list[slice | float] = []
        if categories is not None:
            for estimator in categories.estimators_:
                if hasattr(estimator, "coef_"):
                    self._category_columns.append(self._add(estimator.coef_, estimator.intercept_, estimator))
                else:  # a category with no positive example: a constant
                    self._category_columns.append(float(np.ravel(estimator.y_)[0]))
        self._flag_columns = {flag: self._add(model.coef_, model.intercept_, model) for flag, model in flags.items()}
        self._matrix = np.ascontiguousarray(np.hstack(self._weights), dtype=np.float32)
        self._intercept = np.concatenate(self._intercepts).astype(np.float32)
        self._weights = []
        self._share_weights()

    def _share_weights(self) -> None:
        """Point each estimator's float32 `coef_` at its columns of the stacked matrix (the same
        numbers) so the weights are held once, not twice: ~11 MB for the shipped model. A coef_
        of another type (float64, sparse) is left as it is."""
        for estimator, columns in self._owners:
            coef = estimator.coef_
            if isinstance(coef, np.ndarray) and coef.dtype == np.float32:
                shared = self._matrix[:, columns].T
                if shared.shape == coef.shape and np.array_equal(shared, coef):
                    estimator.coef_ = shared
        self._owners = []

    def _add(self, coef: Any, intercept: Any, owner: Any) -> slice:
        coef = coef.toarray() if sp.issparse(coef) else np.asarray(coef)
        self._weights.append(coef.T)
        self._intercepts.append(np.ravel(intercept))
        columns = slice(self._width, self._width + coef.shape[0])
        self._width += coef.shape[0]
        self._owners.append((owner, columns))
        return columns

    def scores(self, features: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        decisions = np.asarray(features @ self._matrix, dtype=np.float64) + self._intercept
        return self._types(decisions), self._categories(decisions), {
            flag: expit(decisions[:, columns]).ravel() for flag, columns in self._flag_columns.items()
        }

    def _types(self, decisions: np.ndarray) -> np.ndarray:
        rows = decisions.shape[0]
        if self._type_softmax is not None:
            values = decisions[:, self._type_softmax]
            if values.shape[1] == 1:
                positive = expit(values[:, 0])
                return np.column_stack([1 - positive, positive])
            return softmax(values, axis=1)
        total = np.zeros((rows, self.n_types))
        for fold in self._type_folds:
            probabilities = np.zeros((rows, self.n_types))
            probabilities[:, fold.class_index] = expit(-(fold.a * decisions[:, fold.columns] + fold.b))
            if self.n_types == 2:
                probabilities[:, 0] = 1.0 - probabilities[:, 1]
            else:
                denominator = probabilities.sum(axis=1, keepdims=True)
                uniform = np.full_like(probabilities, 1 / self.n_types)
                probabilities = np.divide(probabilities, denominator, out=uniform, where=denominator != 0)
            probabilities[(probabilities > 1.0) & (probabilities <= 1.0 + 1e-5)] = 1.0
            total += probabilities
        return total / len(self._type_folds)

    def _categories(self, decisions: np.ndarray) -> np.ndarray:
        rows = decisions.shape[0]
        result = np.zeros((rows, self.n_categories))
        for column, source in enumerate(self._category_columns):
            result[:, column] = source if isinstance(source, float) else expit(decisions[:, source]).ravel()
        return result
