"""Which words and phrases pushed the model towards its answer (linear models: value × weight)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from spacy.lang.en.stop_words import STOP_WORDS

from classifier.model import TriageModel
from classifier.result import TermWeight

TOP_TERMS = 6
# Single function words ("in", "the") carry weight in the model but explain nothing to a person;
# these stop words do say something and stay.
TELLING_STOP_WORDS = frozenset({
    "again", "still", "never", "no", "not", "nobody", "nothing", "none", "nowhere", "please", "without",
    "cannot", "n't", "anyone", "everyone", "someone", "always", "already", "yet", "why", "how", "when", "what",
})
HIDDEN_TERMS = frozenset(STOP_WORDS - TELLING_STOP_WORDS) | {"#num", "?", "!"}


def _linear_weights(estimator: object) -> np.ndarray:
    """(n_classes or 1, n_features) weights of a linear model; a calibrated model averages its folds."""
    if isinstance(estimator, CalibratedClassifierCV):
        return np.mean([_linear_weights(part.estimator) for part in estimator.calibrated_classifiers_], axis=0)
    coef = getattr(estimator, "coef_", None)
    if coef is None:  # a constant predictor (a category never seen in training)
        return np.zeros((1, 0))
    return np.asarray(coef.toarray() if sp.issparse(coef) else coef, dtype=np.float32)


@dataclass
class Explainer:
    """Weights of the word / phrase columns only: character n-grams are not readable as reasons."""

    names: np.ndarray
    type_weights: np.ndarray  # (n_types, n_words)
    category_weights: dict[str, np.ndarray]  # category -> (n_words,)

    @classmethod
    def for_model(cls, model: TriageModel) -> Explainer:
        words = model.builder.word_columns
        names = np.asarray(model.builder.word.get_feature_names_out()) if model.builder.word is not None else np.array([])
        weights = _linear_weights(model.type_classifier)
        if weights.shape[0] == 1 and len(model.types) == 2:  # binary: one row for the second class
            weights = np.vstack([-weights, weights])
        category_weights: dict[str, np.ndarray] = {}
        if model.category_classifier is not None:
            for name, estimator in zip(model.categories, model.category_classifier.estimators_, strict=True):
                row = _linear_weights(estimator)
                if row.shape[1]:
                    category_weights[name] = row[0, :words]
        return cls(names=names, type_weights=weights[:, :words], category_weights=category_weights)

    def _top(self, row: sp.csr_matrix, weights: np.ndarray) -> list[TermWeight]:
        columns = row.indices[row.indices < len(weights)]
        values = row.data[: len(row.indices)][row.indices < len(weights)]
        if not len(columns):
            return []
        contributions = values * weights[columns]
        terms: list[TermWeight] = []
        for index in np.argsort(-contributions):
            if contributions[index] <= 0 or len(terms) == TOP_TERMS:
                break
            term = str(self.names[columns[index]])
            if term not in HIDDEN_TERMS:
                terms.append(TermWeight(term=term, weight=round(float(contributions[index]), 4)))
        return terms

    def type_terms(self, row: sp.csr_matrix, type_index: int) -> list[TermWeight]:
        return self._top(row, self.type_weights[type_index])

    def category_terms(self, row: sp.csr_matrix, categories: list[str]) -> dict[str, list[TermWeight]]:
        return {
            name: self._top(row, self.category_weights[name]) for name in categories if name in self.category_weights
        }
