"""Fast inference for the linear models: one sparse × dense product instead of ~40 sklearn calls.

scikit-learn validates its input on every `predict_proba` call (for this model: about 70 checks
per message, each costing more than the arithmetic), which made one message take tens of
milliseconds. `LinearScorer` reads the fitted weights once and computes exactly what
scikit-learn would — calibrated SVM folds, logistic regressions, constant predictors — with
NumPy. tests/classifier/test_scoring.py checks it against scikit-learn's own answers.

A scorer is built from the fitted estimators (training, or a model.skops file) or from the plain
arrays `to_arrays` gives (a model's inference.npz, classifier/inference.py): the second needs no
scikit-learn, which is imported here only when estimators are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax


@dataclass(frozen=True)
class _CalibratedFold:
    columns: slice  # decision columns of this fold's estimator in the stacked matrix
    class_index: np.ndarray  # probability column of each decision column
    a: np.ndarray
    b: np.ndarray


class LinearScorer:
    """Probabilities of a TriageModel's type, category and flag classifiers."""

    def __init__(self, type_classifier: Any, categories: Any, flags: dict[str, Any],
                 n_types: int, n_categories: int) -> None:
        # scikit-learn only here: a scorer made from arrays (`from_arrays`) never imports it
        from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
        from sklearn.linear_model import LogisticRegression

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

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything `scores` reads, as plain arrays (for `from_arrays`): the stacked weights and
        intercepts as they are (float32), each block's columns as [start, stop) pairs, and the
        calibration parameters of the type folds concatenated in decision-column order."""
        folds = self._type_folds
        no_folds = np.zeros(0, dtype=np.float64)
        return {
            "matrix": self._matrix,
            "intercept": self._intercept,
            "shape": np.array([self.n_types, self.n_categories], dtype=np.int64),
            "type_softmax": (np.array([self._type_softmax.start, self._type_softmax.stop], dtype=np.int64)
                             if self._type_softmax is not None else np.zeros(0, dtype=np.int64)),
            "fold_columns": np.array([[fold.columns.start, fold.columns.stop] for fold in folds],
                                     dtype=np.int64).reshape(len(folds), 2),
            "fold_class_index": (np.concatenate([fold.class_index for fold in folds]).astype(np.int64)
                                 if folds else np.zeros(0, dtype=np.int64)),
            "fold_a": np.concatenate([fold.a for fold in folds]) if folds else no_folds,
            "fold_b": np.concatenate([fold.b for fold in folds]) if folds else no_folds,
            # a constant category (no positive example) has columns (-1, -1) and its value in category_constant
            "category_columns": np.array([[-1, -1] if isinstance(source, float) else [source.start, source.stop]
                                          for source in self._category_columns],
                                         dtype=np.int64).reshape(len(self._category_columns), 2),
            "category_constant": np.array([source if isinstance(source, float) else 0.0
                                           for source in self._category_columns], dtype=np.float64),
            "flag_names": np.array(list(self._flag_columns), dtype=str),
            "flag_columns": np.array([[columns.start, columns.stop] for columns in self._flag_columns.values()],
                                     dtype=np.int64).reshape(len(self._flag_columns), 2),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LinearScorer:
        """The scorer `to_arrays` described: the same numbers, so the same probabilities."""
        scorer = cls.__new__(cls)
        scorer._weights, scorer._owners, scorer._intercepts = [], [], []
        scorer._matrix = arrays["matrix"]
        scorer._intercept = arrays["intercept"]
        scorer._width = scorer._matrix.shape[1]
        scorer.n_types, scorer.n_categories = (int(value) for value in arrays["shape"])
        softmax_columns = arrays["type_softmax"].tolist()
        scorer._type_softmax = slice(*softmax_columns) if softmax_columns else None
        scorer._type_folds = []
        offset = 0
        for start, stop in arrays["fold_columns"].tolist():
            width = stop - start
            scorer._type_folds.append(_CalibratedFold(
                slice(start, stop), arrays["fold_class_index"][offset:offset + width],
                arrays["fold_a"][offset:offset + width], arrays["fold_b"][offset:offset + width],
            ))
            offset += width
        scorer._category_columns = [
            float(constant) if start < 0 else slice(start, stop)
            for (start, stop), constant in zip(arrays["category_columns"].tolist(),
                                               arrays["category_constant"].tolist(), strict=True)
        ]
        scorer._flag_columns = {str(flag): slice(start, stop) for flag, (start, stop)
                                in zip(arrays["flag_names"].tolist(), arrays["flag_columns"].tolist(), strict=True)}
        return scorer

    @property
    def flag_names(self) -> list[str]:
        return list(self._flag_columns)

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
