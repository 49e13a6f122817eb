"""What the model sees: lemma word n-grams, character n-grams and a few "meta" tokens.

Tokenising with spaCy happens here, outside the scikit-learn objects, so the saved model holds
only scikit-learn / NumPy / SciPy types (which skops can load without trusting our code): the
vectorisers receive ready-made, space-separated lemma strings.

- word n-grams over lemmas (1–2): "leak", "third time", "not come";
- character n-grams (2–5, within word boundaries) over the lower-cased text: robust to the typos
  and shorthand of SMS and transcripts, and to unseen inflections;
- (optional, off by default) meta tokens: the channel and the rules that fired
  ("rule=urgent_safety.gas_smell", "category_hint=cost"); measured in docs/classifier.md, they
  made the model worse, so rules act on flags only.

In a call transcript the agent's words are added with a lower weight than the caller's.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, compress, repeat
from operator import is_, is_not
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from spacy.attrs import IDX, LENGTH, ORTH
from spacy.tokens import Doc

from triage_rules.nlp import get_nlp

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

_DIGITS = re.compile(r"\d+")
# Punctuation that says something about the type of message ("?" asks, "!" exclaims).
_KEPT_PUNCT = frozenset({"?", "!"})
NUMBER_TOKEN = "#num"
URL_TOKEN = "#url"
MAX_REMEMBERED_WORDS = 200_000  # per vectoriser: bounds the memory of the per-word n-gram memo
EMAIL_TOKEN = "#email"


@dataclass(frozen=True)
class FeatureSettings:
    """Choices compared in docs/classifier.md; the defaults are the ones that won."""

    use_words: bool = True
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    use_chars: bool = True
    use_meta: bool = False  # rule tokens as features: measured, they lowered every score
    char_weight: float = 1.0  # scale of the character block relative to the word block
    meta_weight: float = 1.0  # scale of the rule / channel tokens
    # Weight of an agent's words relative to the caller's. 0 scored best by a hair (within noise);
    # a little weight keeps some signal when a speaker is misidentified.
    agent_weight: float = 0.15
    min_df: int = 2
    char_max_features: int | None = 50_000
    word_max_features: int | None = 30_000


@dataclass(frozen=True)
class TextForModel:
    """One item ready for the vectorisers."""

    lemmas: str  # space-separated lower-case lemmas of the main text (caller side of a call)
    chars: str  # lower-cased text with digits collapsed, for character n-grams
    meta: str  # space-separated meta tokens
    agent_lemmas: str = ""  # the agent side of a call transcript
    agent_chars: str = ""


class Lemmatizer:
    """Case-blind lemmas from the shared pipeline's lookup table (the same lemmas the rules use).

    Everything decided per token here (space, URL, number, punctuation, lower-case lemma) is a
    property of the word itself, not of its context, so it is worked out once per distinct word
    (spaCy's ORTH id) and remembered; a message is then a list lookup per token. The table is
    read directly rather than through the lemmatizer component and the `token._.lower_lemma`
    extension: the same answer, many times faster.
    """

    MAX_MEMO = 500_000

    def __init__(self) -> None:
        self._nlp = get_nlp()
        lemmatizer: Any = self._nlp.get_pipe("lemmatizer")
        self._table = lemmatizer.lookups.get_table("lemma_lookup")
        self._memo: dict[int, str] = {}

    def _token_for(self, orth: int) -> str:
        lexeme = self._nlp.vocab[orth]
        text = lexeme.orth_
        if lexeme.is_space:
            token = ""
        elif lexeme.like_url:
            token = URL_TOKEN
        elif lexeme.like_email:
            token = EMAIL_TOKEN
        elif lexeme.like_num or _DIGITS.fullmatch(text):
            token = NUMBER_TOKEN
        elif lexeme.is_punct:
            token = text if text in _KEPT_PUNCT else ""
        else:
            lower = lexeme.lower_
            token = self._table.get(lower, lower)
        if len(self._memo) < self.MAX_MEMO:
            self._memo[orth] = token
        return token

    def read(self, doc: Doc) -> DocLemmas:
        """The lemmas of `doc` with the span of the word each came from (tokens that give none,
        such as spaces and most punctuation, left out)."""
        # one array read instead of a Token object per word; a word's end is its start plus its
        # length in characters (LENGTH: len() of the word's text)
        table = doc.to_array([ORTH, IDX, LENGTH])
        orths = table[:, 0].tolist()
        # map() and compress() walk the lists in C; only words not seen before take the slow path.
        lemmas = list(map(self._memo.get, orths))
        if None in lemmas:
            fresh = {orth: self._token_for(orth) for orth in dict.fromkeys(compress(orths, map(is_, lemmas,
                                                                                              repeat(None))))}
            lemmas = list(map(fresh.get, orths, lemmas))
        starts = table[:, 1]
        return DocLemmas(lemmas=list(filter(None, lemmas)), starts=list(compress(starts.tolist(), lemmas)),
                         ends=list(compress((starts + table[:, 2]).tolist(), lemmas)))

    def aligned(self, doc: Doc) -> list[tuple[str, int, int]]:
        """(lemma, start, end) for each token that gives a lemma: where in the text each lemma came
        from, so a model feature can be shown as the resident's own words."""
        read = self.read(doc)
        return list(zip(read.lemmas, read.starts, read.ends, strict=True))

    def tokens(self, doc: Doc) -> list[str]:
        lemmas = list(map(self._memo.get, doc.to_array(ORTH).tolist()))
        if None in lemmas:
            orths = doc.to_array(ORTH).tolist()
            lemmas = [self._token_for(orth) if lemma is None else lemma for orth, lemma in zip(orths, lemmas,
                                                                                                strict=True)]
        return list(filter(None, lemmas))


@dataclass(frozen=True)
class DocLemmas:
    """The lemmas a Doc gives the model, each with the character span of its word in the Doc's text."""

    lemmas: list[str]
    starts: list[int]
    ends: list[int]

    @property
    def text(self) -> str:
        """What the word vectoriser reads: the lemmas, space-separated (`lemma_string`)."""
        return " ".join(self.lemmas)

    def then(self, other: DocLemmas, offset: int) -> DocLemmas:
        """The lemmas of a text made of this one's text, whitespace, then `other`'s text starting at
        `offset`. (The tokenizer splits at whitespace first: no token crosses it, and whitespace
        gives no lemma.)"""
        return DocLemmas(lemmas=self.lemmas + other.lemmas,
                         starts=self.starts + [start + offset for start in other.starts],
                         ends=self.ends + [end + offset for end in other.ends])


_LEMMATIZER: Lemmatizer | None = None


def _lemmatizer() -> Lemmatizer:
    global _LEMMATIZER
    if _LEMMATIZER is None:
        _LEMMATIZER = Lemmatizer()
    return _LEMMATIZER


def lemma_tokens(doc: Doc) -> list[str]:
    """Lower-case lemmas; numbers, URLs and emails as placeholders; only "?" and "!" of punctuation."""
    return _lemmatizer().tokens(doc)


def _is_plain_char_wb(vectorizer: CountVectorizer | FittedVectorizer) -> bool:
    """char_wb n-grams of the text as given (no lower-casing or other preprocessing to mirror)."""
    return (vectorizer.analyzer == "char_wb" and not vectorizer.lowercase and vectorizer.preprocessor is None
            and vectorizer.strip_accents is None)


def _is_plain_word(vectorizer: CountVectorizer | FittedVectorizer) -> bool:
    """Word n-grams of whitespace-separated tokens as given (what our lemma and meta strings are)."""
    return (vectorizer.analyzer == "word" and vectorizer.token_pattern == r"\S+" and vectorizer.tokenizer is None
            and not vectorizer.lowercase and vectorizer.preprocessor is None and vectorizer.strip_accents is None
            and vectorizer.stop_words is None)


def _word_entries(vectorizer: CountVectorizer | FittedVectorizer, documents: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every in-vocabulary word n-gram: scikit-learn's n-grams (tokens joined by
    one space, n from low to high) of `str.split()` tokens (the runs its token pattern finds)."""
    low, high = vectorizer.ngram_range
    lookup = vectorizer.vocabulary_.get
    grams: list[str] = []  # the whole batch's, looked up with one fromiter
    per_document = []
    for document in documents:
        tokens = document.split()
        before = len(grams)
        for n in range(low, high + 1):
            # zip stops at the shortest slice: the n-grams that fit, as sklearn's range does
            grams.extend(tokens if n == 1 else map(" ".join, zip(*[tokens[k:] for k in range(n)], strict=False)))
        per_document.append(len(grams) - before)
    flat = np.fromiter(map(lookup, grams, repeat(-1)), dtype=np.int64, count=len(grams))
    rows = np.repeat(np.arange(len(documents), dtype=np.int64), per_document)
    found = flat >= 0
    return rows[found], flat[found]


def _found_entries(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) pairs from each row's looked-up columns, -1 (not in the vocabulary) left out."""
    rows = np.repeat(np.arange(len(columns), dtype=np.int64),
                     np.fromiter(map(len, columns), dtype=np.int64, count=len(columns)))
    flat = np.concatenate(columns) if columns else np.zeros(0, np.int64)
    found = flat >= 0
    return rows[found], flat[found]


def counted_matrix_by_unique(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> sp.csr_matrix:
    """`counted_matrix` the plain way (one np.unique over row * n_columns + column): for rows not in
    order or a matrix too large for 16-bit keys, and the reference the fast path is tested against."""
    keys, counts = np.unique(rows.astype(np.int64) * n_columns + columns, return_counts=True)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(keys // n_columns, minlength=n_rows))
    matrix = sp.csr_matrix((counts.astype(np.float32), (keys % n_columns).astype(np.int32), indptr),
                           shape=(n_rows, n_columns))
    matrix.sort_indices()
    return matrix


def counted_matrix(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> sp.csr_matrix:
    """The CSR matrix (float32 counts, sorted columns, no duplicates) of how often each (row, column)
    pair occurs. What one `np.unique` over `rows * n_columns + columns` gives, without its int64
    argsort: each pair packed into one 32-bit key (row in the high 16 bits, column in the low), the
    keys sorted in place (NumPy's SIMD sort of 32-bit integers; no permutation is needed, every
    entry counts 1), runs of equal keys counted. The sorted keys are in row order with columns
    ascending within a row: the CSR order itself, no second sort."""
    if not (n_columns <= 1 << 16 and n_rows <= 1 << 16) or not len(rows):
        return counted_matrix_by_unique(rows, columns, n_rows, n_columns)
    keys = rows.astype(np.uint32)
    keys <<= 16
    keys |= columns.astype(np.uint32)
    keys.sort()
    starts = np.empty(len(keys), dtype=bool)  # where a new (row, column) pair begins
    starts[0] = True
    np.not_equal(keys[1:], keys[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    counts = np.diff(first, append=len(keys)).astype(np.float32)
    pairs = keys[first]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs >> 16, minlength=n_rows), out=indptr[1:])
    matrix = sp.csr_matrix((counts, (pairs & 0xFFFF).astype(np.int32), indptr), shape=(n_rows, n_columns))
    matrix.has_sorted_indices = True  # columns ascend within each row by construction
    return matrix


_is_known = partial(is_not, None)  # a vocabulary lookup that found a column (0 included)


def char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """Exactly scikit-learn's `char_wb` n-grams (its quirks included), built with comprehensions:
    each word padded with one space either side; a word shorter than n gives itself once."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(min_n, max_n + 1):
            if n >= length:
                grams.append(padded)
                break
            grams.extend([padded[i : i + n] for i in range(length - n + 1)])
    return grams


def aligned_lemmas(doc: Doc) -> list[tuple[str, int, int]]:
    """Each lemma of `doc` with the character span of the word it came from."""
    return _lemmatizer().aligned(doc)


def read_lemmas(doc: Doc) -> DocLemmas:
    """The lemmas of `doc` and their spans, read once for both the model and the explanation."""
    return _lemmatizer().read(doc)


def lemma_string(doc: Doc) -> str:
    return " ".join(lemma_tokens(doc))


def char_string(text: str) -> str:
    # str.split() and re's \s both split at str.isspace() characters: the same as replacing each
    # whitespace run by one space and stripping the ends, without a second regex pass.
    return " ".join(_DIGITS.sub("0", text.lower()).split())


def meta_tokens(channel: str, rule_tokens: Iterable[str]) -> str:
    return " ".join([f"channel={channel}", *rule_tokens])


@dataclass(eq=False)
class FittedVectorizer:
    """A fitted vectoriser as inference reads it, without scikit-learn: exactly the attributes
    `FeatureBuilder` and the explanation read from a Count/TfidfVectorizer, with the values of the
    ones this module makes (`_word_vectorizer`, `_char_vectorizer`, `_meta_vectorizer`): plain
    analyzers (no lower-casing, preprocessor, accents or stop words: `_is_plain_word` and
    `_is_plain_char_wb` hold), TF-IDF with sublinear tf and l2 norm when `idf_` is set, binary
    counts otherwise."""

    analyzer: str
    ngram_range: tuple[int, int]
    vocabulary_: dict[str, int]
    idf_: np.ndarray | None = None
    binary: bool = False
    sublinear_tf: bool = False
    terms: np.ndarray | None = field(default=None, repr=False)  # column names in column order (object array)
    token_pattern: str = r"\S+"
    lowercase: bool = False
    preprocessor: None = None
    strip_accents: None = None
    tokenizer: None = None
    stop_words: None = None

    def get_feature_names_out(self) -> np.ndarray:
        if self.terms is None:
            terms = [""] * len(self.vocabulary_)
            for term, column in self.vocabulary_.items():
                terms[column] = term
            self.terms = np.array(terms, dtype=object)
        return self.terms

    def build_analyzer(self) -> Callable[[str], list[str]]:
        raise TypeError("a FittedVectorizer has only the plain analyzers FeatureBuilder computes itself")


def fitted_vectorizers(settings: FeatureSettings, saved: dict[str, dict[str, np.ndarray]]) -> dict[str, FittedVectorizer]:
    """The stand-ins for the vectorisers `FeatureBuilder.parts` saved (terms in column order, idf)."""
    shapes = {"word": ("word", settings.word_ngrams, True), "char": ("char_wb", settings.char_ngrams, True),
              "meta": ("word", (1, 1), False)}
    made = {}
    for name, arrays in saved.items():
        analyzer, ngram_range, tfidf = shapes[name]
        made[name] = FittedVectorizer(
            analyzer=analyzer, ngram_range=tuple(ngram_range),  # type: ignore[arg-type]
            vocabulary_={str(term): index for index, term in enumerate(arrays["terms"].tolist())},
            idf_=arrays["idf"] if tfidf else None, binary=not tfidf, sublinear_tf=tfidf,
        )
    return made


def _idf_of(vectorizer: Any) -> np.ndarray | None:
    """The idf of a fitted TF-IDF vectoriser (scikit-learn's or a FittedVectorizer), None for counts."""
    return getattr(vectorizer, "idf_", None)


def _word_vectorizer(settings: FeatureSettings) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="word", token_pattern=r"\S+", lowercase=False, ngram_range=settings.word_ngrams,
        min_df=settings.min_df, sublinear_tf=True, max_features=settings.word_max_features,
        dtype=np.float32,
    )


def _char_vectorizer(settings: FeatureSettings) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=settings.char_ngrams, lowercase=False, min_df=settings.min_df,
        sublinear_tf=True, max_features=settings.char_max_features, dtype=np.float32,
    )


def _meta_vectorizer() -> CountVectorizer:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer="word", token_pattern=r"\S+", lowercase=False, binary=True,
                           dtype=np.float32)


@dataclass
class FeatureBuilder:
    """Fits the vectorisers and turns TextForModel items into one sparse matrix."""

    settings: FeatureSettings = field(default_factory=FeatureSettings)
    # scikit-learn's when fitted or loaded from model.skops; FittedVectorizer stand-ins from inference.npz
    word: TfidfVectorizer | FittedVectorizer | None = None
    char: TfidfVectorizer | FittedVectorizer | None = None
    meta: CountVectorizer | FittedVectorizer | None = None
    _analyzers: dict[str, Callable[[str], list[str]]] = field(default_factory=dict, repr=False)
    _word_columns: dict[str, dict[str, array[int]]] = field(default_factory=dict, repr=False)
    _idf_float32: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def fit(self, items: Sequence[TextForModel]) -> FeatureBuilder:
        self.fit_transform(items)
        return self

    def fit_transform(self, items: Sequence[TextForModel]) -> sp.csr_matrix:
        """Fit the vectorisers and return the features, analysing each text once."""
        main: dict[str, sp.csr_matrix] = {}
        self._analyzers, self._word_columns = {}, {}
        if self.settings.use_words:
            self.word = word = _word_vectorizer(self.settings)
            main["word"] = word.fit_transform([item.lemmas for item in items])
        if self.settings.use_chars:
            self.char = char = _char_vectorizer(self.settings)
            main["char"] = char.fit_transform([item.chars for item in items])
        if self.settings.use_meta:
            self.meta = meta = _meta_vectorizer()
            main["meta"] = meta.fit_transform([item.meta for item in items])
        return self._compose(items, main)

    def transform(self, items: Sequence[TextForModel]) -> sp.csr_matrix:
        if self.word is None and self.char is None:
            raise RuntimeError("FeatureBuilder.transform called before fit")
        return self._compose(items, {})

    def _vectorize(self, name: str, vectorizer: CountVectorizer | FittedVectorizer, documents: list[str]) -> sp.csr_matrix:
        """What `vectorizer.transform(documents)` returns, without scikit-learn's per-call input
        checks (they cost more than the counting for one short message), counted for the whole
        batch at once: every n-gram's column, with the row it is in, then counted (`counted_matrix`)."""
        n_columns = len(vectorizer.vocabulary_)
        if _is_plain_char_wb(vectorizer):
            rows, columns = self._char_entries(name, vectorizer, documents)
        elif _is_plain_word(vectorizer):
            rows, columns = _word_entries(vectorizer, documents)
        else:
            rows, columns = self._analyzed_entries(name, vectorizer, documents)
        matrix = counted_matrix(rows, columns, len(documents), n_columns)
        if vectorizer.binary:
            matrix.data[:] = 1.0
        idf = _idf_of(vectorizer)
        if idf is not None:  # TF-IDF
            if vectorizer.sublinear_tf:
                np.log(matrix.data, out=matrix.data)
                matrix.data += 1.0
            matrix.data *= self._idf32(name, idf)[matrix.indices]
            # matrix.multiply(matrix) of a canonical matrix is these squares on the same entries (none
            # of them 0): the same sums, without SciPy's element-wise merge of two matrices
            squares = sp.csr_matrix((matrix.data * matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape)
            norms = np.sqrt(np.asarray(squares.sum(axis=1), dtype=np.float32)).ravel()
            norms[norms == 0] = 1.0
            matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
        return matrix

    def _idf32(self, name: str, idf: np.ndarray) -> np.ndarray:
        """A vectoriser's `idf_` as float32, made once (the same values as casting each batch's gathered
        idf): remade if the vectoriser's idf_ is replaced."""
        known = self._idf_float32.get(name)
        if known is None or known[0] is not idf:
            known = self._idf_float32[name] = (idf, np.asarray(idf, dtype=np.float32))
        return known[1]

    def _analyzed_entries(
        self, name: str, vectorizer: Any, documents: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every in-vocabulary term, through scikit-learn's own analyzer (any settings)."""
        analyzer = self._analyzers.get(name)
        if analyzer is None:
            analyzer = self._analyzers[name] = vectorizer.build_analyzer()
        lookup = vectorizer.vocabulary_.get
        columns = [np.fromiter(map(lookup, analyzer(document), repeat(-1)), dtype=np.int64) for document in documents]
        return _found_entries(columns)

    def _char_entries(
        self, name: str, vectorizer: CountVectorizer | FittedVectorizer, documents: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every in-vocabulary char_wb n-gram. These n-grams never cross a word
        boundary, so each distinct word's columns are worked out once and remembered."""
        memo = self._word_columns.setdefault(name, {})
        split = [document.split() for document in documents]
        words = list(chain.from_iterable(split))
        known = list(map(memo.get, words))
        if None in known:
            low, high = vectorizer.ngram_range
            vocabulary: Any = vectorizer.vocabulary_
            fresh: dict[str, array[int]] = {}
            # each new word once, in order of first occurrence (found in C: most words of a batch are known)
            for word in dict.fromkeys(compress(words, map(is_, known, repeat(None)))):
                # array("i"): a fifth of the memory of a list of ints, joined with one copy
                columns = fresh[word] = array("i", filter(_is_known, map(vocabulary.get,
                                                                         char_wb_ngrams(word, low, high))))
                if len(memo) < MAX_REMEMBERED_WORDS:
                    memo[word] = columns
            # a new word's columns, every other word's as they were found
            known = list(map(fresh.get, words, known))
        joined = b"".join(known)  # type: ignore[arg-type]  # arrays are bytes-like
        per_word = np.fromiter(map(len, known), dtype=np.int64, count=len(known))  # type: ignore[arg-type]
        word_rows = np.repeat(np.arange(len(documents), dtype=np.int32),
                              np.fromiter(map(len, split), dtype=np.int64, count=len(split)))
        # int32 both: half the bytes to allocate, copy and sort of int64 (counted_matrix widens if it must)
        return np.repeat(word_rows, per_word), np.frombuffer(joined, dtype=np.int32)

    def _compose(self, items: Sequence[TextForModel], main: dict[str, sp.csr_matrix]) -> sp.csr_matrix:
        weight = self.settings.agent_weight
        blocks = []
        if self.word is not None:
            words = main.get("word")
            if words is None:
                words = self._vectorize("word", self.word, [item.lemmas for item in items])
            blocks.append(self._with_agent("word", self.word, words, [item.agent_lemmas for item in items], weight))
        if self.char is not None:
            chars = main.get("char")
            if chars is None:
                chars = self._vectorize("char", self.char, [item.chars for item in items])
            chars = self._with_agent("char", self.char, chars, [item.agent_chars for item in items], weight)
            blocks.append(chars * self.settings.char_weight if self.settings.char_weight != 1.0 else chars)
        if self.meta is not None:
            meta = main.get("meta")
            if meta is None:
                meta = self._vectorize("meta", self.meta, [item.meta for item in items])
            blocks.append(meta * self.settings.meta_weight if self.settings.meta_weight != 1.0 else meta)
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def _with_agent(
        self, name: str, vectorizer: TfidfVectorizer | FittedVectorizer, matrix: sp.csr_matrix, agent: list[str], weight: float
    ) -> sp.csr_matrix:
        """Add the agent's words, scaled by `weight`, to the rows of the main text."""
        rows = [index for index, text in enumerate(agent) if text]
        if weight > 0 and rows:
            agent_matrix = self._vectorize(name, vectorizer, [agent[index] for index in rows]) * weight
            expand = sp.csr_matrix(
                (np.ones(len(rows), dtype=np.float32), (rows, range(len(rows)))), shape=(matrix.shape[0], len(rows))
            )
            matrix = matrix + expand @ agent_matrix
        return matrix

    def feature_names(self) -> list[str]:
        """Names of every column, in order: words as written, "chars:…" and meta tokens as they are."""
        names: list[str] = []
        if self.word is not None:
            names.extend(self.word.get_feature_names_out())
        if self.char is not None:
            names.extend(f"chars:{name}" for name in self.char.get_feature_names_out())
        if self.meta is not None:
            names.extend(self.meta.get_feature_names_out())
        return names

    @property
    def n_features(self) -> int:
        return sum(len(v.vocabulary_) for v in (self.word, self.char, self.meta) if v is not None)

    @property
    def word_columns(self) -> int:
        return len(self.word.vocabulary_) if self.word is not None else 0

    def parts(self) -> dict[str, dict[str, np.ndarray]]:
        """The fitted vocabularies as arrays, for saving.

        A vectoriser's vocabulary is a dict of ~100k entries, which skops writes (and reads) one
        node at a time: tens of seconds. As two NumPy arrays it takes milliseconds; the
        vectorisers are rebuilt from the settings at load time.
        """
        parts: dict[str, dict[str, np.ndarray]] = {}
        for name, vectorizer in (("word", self.word), ("char", self.char), ("meta", self.meta)):
            if vectorizer is None:
                continue
            parts[name] = {"terms": np.asarray(vectorizer.get_feature_names_out(), dtype=str)}
            idf = _idf_of(vectorizer)
            if idf is not None:
                parts[name]["idf"] = np.asarray(idf, dtype=np.float64)
        return parts

    @classmethod
    def from_parts(cls, parts: dict[str, dict[str, np.ndarray]], settings: FeatureSettings) -> FeatureBuilder:
        from sklearn.feature_extraction.text import TfidfVectorizer

        def rebuilt(vectorizer: CountVectorizer, saved: dict[str, np.ndarray]) -> CountVectorizer:
            vectorizer.vocabulary_ = {str(term): index for index, term in enumerate(saved["terms"])}
            if isinstance(vectorizer, TfidfVectorizer):
                vectorizer.idf_ = saved["idf"]
            return vectorizer

        return cls(
            settings=settings,
            word=rebuilt(_word_vectorizer(settings), parts["word"]) if "word" in parts else None,  # type: ignore[arg-type]
            char=rebuilt(_char_vectorizer(settings), parts["char"]) if "char" in parts else None,  # type: ignore[arg-type]
            meta=rebuilt(_meta_vectorizer(), parts["meta"]) if "meta" in parts else None,
        )

    @classmethod
    def from_arrays(cls, parts: dict[str, dict[str, np.ndarray]], settings: FeatureSettings) -> FeatureBuilder:
        """The builder `from_parts` makes, with FittedVectorizer stand-ins instead of scikit-learn's."""
        made = fitted_vectorizers(settings, parts)
        return cls(settings=settings, word=made.get("word"), char=made.get("char"), meta=made.get("meta"))
