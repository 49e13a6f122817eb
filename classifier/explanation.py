"""Which words and phrases pushed the model towards its answer (linear models: value × weight).

Each term is shown as the resident's own words: the model's feature is a lemma n-gram ("have be"),
so it is found again in the tokens the model read and given back as the words written there
("has been") with their character spans in the original message. A term made only of function
words or punctuation ("and i", "? ?") explains nothing to a person and is not shown; nor is a term
that is not in the resident's own text (the agent's side of a call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from spacy.lang.en.stop_words import STOP_WORDS

from classifier.features import DocLemmas
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
    from sklearn.calibration import CalibratedClassifierCV  # only with estimators: scikit-learn is loaded

    if isinstance(estimator, CalibratedClassifierCV):
        return np.mean([_linear_weights(part.estimator) for part in estimator.calibrated_classifiers_], axis=0)
    coef = getattr(estimator, "coef_", None)
    if coef is None:  # a constant predictor (a category never seen in training)
        return np.zeros((1, 0))
    return np.asarray(coef.toarray() if sp.issparse(coef) else coef, dtype=np.float32)


def explainer_weights(type_classifier: Any, category_classifier: Any, types: tuple[str, ...],
                      categories: tuple[str, ...], words: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The word columns' weights the explanation reads, from the fitted estimators: per type
    (n_types, words), and per category with a linear model (words,). float32 (as the weights are)."""
    weights = _linear_weights(type_classifier)
    if weights.shape[0] == 1 and len(types) == 2:  # binary: one row for the second class
        weights = np.vstack([-weights, weights])
    category_weights: dict[str, np.ndarray] = {}
    if category_classifier is not None:
        for name, estimator in zip(categories, category_classifier.estimators_, strict=True):
            row = _linear_weights(estimator)
            if row.shape[1]:
                category_weights[name] = row[0, :words].copy()  # not a view: keeps no coef_ alive
    return weights[:, :words], category_weights


def _is_hidden(term: str) -> bool:
    return all(part in HIDDEN_TERMS for part in term.split(" "))


def spans_in(original: str, words: str) -> list[tuple[int, int]]:
    """Where `words` occur in the original message (exact, else ignoring case and spacing)."""
    if not words:
        return []
    # Exact: what re.finditer(re.escape(words)) gives (left to right, not overlapping), without
    # compiling a pattern per term (thousands of distinct terms overflow re's own cache).
    found = []
    start = original.find(words)
    while start >= 0:
        found.append((start, start + len(words)))
        start = original.find(words, start + len(words))
    if found:
        return found
    parts = words.split()
    if parts and original.isascii() and words.isascii():
        # In ASCII, ignoring case is comparing lower(): a part missing from the lowered original
        # means no loose match either, found without compiling a pattern for a new term.
        lowered = original.lower()
        if any(part.lower() not in lowered for part in parts):
            return []
    return [(m.start(), m.end()) for m in _loose_pattern(words).finditer(original)]


@lru_cache(maxsize=4096)
def _loose_pattern(words: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(part) for part in words.split()), flags=re.IGNORECASE)


@dataclass(frozen=True)
class RowView:
    """One row of a CSR matrix as its column indices and values (what `matrix[row]` would hold,
    without building a matrix for it: that cost more than the explanation itself)."""

    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def of(cls, matrix: sp.csr_matrix, row: int) -> RowView:
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        return cls(matrix.indices[start:end], matrix.data[start:end])


@dataclass
class WordMap:
    """The lemmas the model read, each with the span of the word it came from."""

    lemmas: DocLemmas  # spans in `model_text`
    model_text: str
    original: str  # the message as received
    # Each term's answer, found once: an item's type and category explanations share most terms
    _found: dict[str, tuple[str, list[tuple[int, int]]] | None] = field(default_factory=dict, repr=False,
                                                                        compare=False)

    def words_for(self, term: str) -> tuple[str, list[tuple[int, int]]] | None:
        """The resident's words behind a lemma n-gram and their spans in the original, or None:
        its first occurrence in the lemmas read (list.index finds each candidate start in C)."""
        if term in self._found:
            found = self._found[term]
            # a fresh spans list each time, as finding it again would give (a result may be changed)
            return None if found is None else (found[0], list(found[1]))
        found = self._found[term] = self._words_for(term)
        return None if found is None else (found[0], list(found[1]))

    def _words_for(self, term: str) -> tuple[str, list[tuple[int, int]]] | None:
        parts = term.split(" ")
        lemmas = self.lemmas.lemmas
        size = len(parts)
        first = -1
        while True:
            try:
                first = lemmas.index(parts[0], first + 1)
            except ValueError:
                return None
            last = first + size - 1
            if last < len(lemmas) and (size == 1 or lemmas[first:last + 1] == parts):
                words = self.model_text[self.lemmas.starts[first]:self.lemmas.ends[last]]
                return words, spans_in(self.original, words)


@dataclass
class Explainer:
    """Weights of the word / phrase columns only: character n-grams are not readable as reasons."""

    names: np.ndarray
    type_weights: np.ndarray  # (n_types, n_words)
    category_weights: dict[str, np.ndarray]  # category -> (n_words,)
    # Per word column: a term never shown (function words only), worked out once, not per message
    hidden: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    # Every weight vector (types, then categories) as one matrix, for a batch's contributions at once;
    # type_weights and category_weights are views of it (the weights are held once).
    stacked: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    category_rows: dict[str, int] = field(default_factory=dict)  # category -> its row of `stacked`
    # Each column's name as a str (str() of a NumPy string per shown term cost more): the word
    # vocabulary's own strings when made from a model, so they take no memory of their own
    name_list: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.name_list) != len(self.names):
            self.name_list = [str(name) for name in self.names]
        if len(self.hidden) != len(self.names):
            self.hidden = np.fromiter((_is_hidden(str(name)) for name in self.names), dtype=bool,
                                      count=len(self.names))
        # float32 all (as _linear_weights gives them): stacking must not change a single product
        self.stacked = np.vstack([np.asarray(self.type_weights, dtype=np.float32).reshape(len(self.type_weights), -1),
                                  *(np.asarray(row, dtype=np.float32).reshape(1, -1)
                                    for row in self.category_weights.values())])
        n_types = len(self.type_weights)
        self.type_weights = self.stacked[:n_types]
        self.category_rows = {name: n_types + k for k, name in enumerate(self.category_weights)}
        self.category_weights = {name: self.stacked[row] for name, row in self.category_rows.items()}

    @classmethod
    def for_model(cls, model: TriageModel) -> Explainer:
        words = model.builder.word_columns
        names = np.asarray(model.builder.word.get_feature_names_out()) if model.builder.word is not None else np.array([])
        if model.explainer_weights is not None:  # the inference form: read from inference.npz
            type_weights, category_weights = model.explainer_weights
        else:
            type_weights, category_weights = explainer_weights(model.type_classifier, model.category_classifier,
                                                               model.types, model.categories, words)
        name_list: list[str] = []
        if model.builder.word is not None:
            name_list = [""] * words
            for term, column in model.builder.word.vocabulary_.items():
                name_list[column] = term
        explainer = cls(names=names, type_weights=type_weights, category_weights=category_weights,
                        name_list=name_list)
        if model.explainer_weights is not None:
            # the same numbers, as views of the explainer's own matrix: the loaded copies are freed (~3 MB)
            model.explainer_weights = (explainer.type_weights, dict(explainer.category_weights))
        return explainer

    def explain_batch(self, matrix: sp.csr_matrix, requests: list[tuple[int, int]],
                      words: list[WordMap | None]) -> list[list[TermWeight]]:
        """The terms of each (row of `matrix`, row of `stacked`) request, each what `_top` gives for
        that row and weight vector (`words[i]` maps request i's terms to the resident's words): the
        contributions of the whole batch found, filtered and ordered with a few NumPy calls instead of
        a dozen per request."""
        if not requests:
            return []
        indptr = matrix.indptr
        matrix_rows = np.fromiter((row for row, _ in requests), dtype=np.int64, count=len(requests))
        vectors = np.fromiter((vector for _, vector in requests), dtype=np.int64, count=len(requests))
        starts = indptr[matrix_rows].astype(np.int64)
        lengths = indptr[matrix_rows + 1].astype(np.int64) - starts
        request_of = np.repeat(np.arange(len(requests), dtype=np.int64), lengths)
        # each entry's place in the matrix: its request's row start plus its place within the row
        offsets = np.cumsum(lengths) - lengths
        entries = np.arange(len(request_of), dtype=np.int64) - np.repeat(offsets - starts, lengths)
        columns = matrix.indices[entries]
        inside = (columns < self.stacked.shape[1]).nonzero()[0]
        columns, request_of = columns[inside], request_of[inside]
        contributions = matrix.data[entries[inside]] * self.stacked[vectors[request_of], columns]
        kept = ((contributions > 0) & ~self.hidden[columns]).nonzero()[0]
        # by request, then largest first, equal contributions in column order (as in `_top`)
        order = kept[np.lexsort((columns[kept], -contributions[kept], request_of[kept]))]
        bounds = np.searchsorted(request_of[order], np.arange(len(requests) + 1)).tolist()
        amounts, column_list = contributions[order].tolist(), columns[order].tolist()
        return [self._terms(amounts[bounds[k]:bounds[k + 1]], column_list[bounds[k]:bounds[k + 1]], words[k])
                for k in range(len(requests))]

    def _top(self, row: sp.csr_matrix | RowView, weights: np.ndarray, words: WordMap | None) -> list[TermWeight]:
        inside = row.indices < len(weights)
        columns = row.indices[inside]
        values = row.data[: len(row.indices)][inside]
        if not len(columns):
            return []
        contributions = values * weights[columns]
        # The terms that push towards the answer, less the hidden ones, largest first; equal
        # contributions (identical training columns get identical weights) in column order. A row's
        # entries come in another order when its batch has a call's agent side (SciPy's sum
        # reorders them), so without a fixed tie-break an explanation would depend on its batch.
        kept = (contributions > 0).nonzero()[0]
        kept = kept[~self.hidden[columns[kept]]]
        order = kept[np.lexsort((columns[kept], -contributions[kept]))]
        return self._terms(contributions[order].tolist(), columns[order].tolist(), words)

    def _terms(self, amounts: list[float], column_list: list[int], words: WordMap | None) -> list[TermWeight]:
        """The first TOP_TERMS of the ordered candidates found in the resident's own words."""
        terms: list[TermWeight] = []
        names = self.name_list
        for amount, column in zip(amounts, column_list, strict=True):
            if len(terms) == TOP_TERMS:
                break
            term = names[column]
            weight = round(amount, 4)
            if words is None:
                terms.append(TermWeight(term=term, weight=weight))
                continue
            found = words.words_for(term)
            if found is not None:  # not in the resident's own text (an agent's words): not shown
                terms.append(TermWeight(term=term, weight=weight, text=found[0], spans=found[1]))
        return terms

    def type_terms(self, row: sp.csr_matrix | RowView, type_index: int, words: WordMap | None = None) -> list[TermWeight]:
        return self._top(row, self.type_weights[type_index], words)

    def category_terms(
        self, row: sp.csr_matrix | RowView, categories: list[str], words: WordMap | None = None
    ) -> dict[str, list[TermWeight]]:
        return {
            name: self._top(row, self.category_weights[name], words)
            for name in categories if name in self.category_weights
        }
