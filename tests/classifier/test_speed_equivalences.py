"""Seventh speed round: each faster path gives exactly what the plainer one gave."""

from __future__ import annotations

import numpy as np

from classifier.data import load_examples, seed_files
from classifier.features import counted_matrix, counted_matrix_by_unique
from triage_rules.language import _LETTERS_ONLY, WORD


def _ascii_words(sample: str) -> list[str]:
    """How `_language_of_sample` now finds an ASCII sample's words."""
    return sample.lower().encode().translate(_LETTERS_ONLY).decode().split()


def test_ascii_words_are_the_word_patterns_runs() -> None:
    every_character = "".join(chr(code) for code in range(128))
    samples = [every_character, every_character[::-1] * 3, "", "  ", "a_b c1d don't e-mail ÀB".encode("ascii", "ignore").decode()]
    samples += [example.body[:2000] for example in load_examples(seed_files()) if example.body[:2000].isascii()]
    for sample in samples:
        assert _ascii_words(sample) == WORD.findall(sample.lower()), sample[:80]


def test_pairs_in_any_row_order_are_counted_as_np_unique_counts_them() -> None:
    """counted_matrix sorts packed (row, column) keys: rows need not come in order any more."""
    generator = np.random.default_rng(11)
    for trial in range(60):
        n_rows, n_columns = int(generator.integers(1, 300)), int(generator.integers(1, 1 << 16))
        size = int(generator.integers(0, 5_000))
        rows = generator.integers(0, n_rows, size)
        columns = generator.integers(0, n_columns if trial % 2 else min(n_columns, 40), size)
        ours, theirs = counted_matrix(rows, columns, n_rows, n_columns), counted_matrix_by_unique(
            rows, columns, n_rows, n_columns)
        assert ours.shape == theirs.shape
        for name in ("indptr", "indices", "data"):
            mine, expected = getattr(ours, name), getattr(theirs, name)
            assert mine.dtype == expected.dtype and np.array_equal(mine, expected), (trial, name)
    # the largest matrix 16-bit halves can hold: row 65,535 and column 65,535
    top = counted_matrix(np.array([65_535, 65_535, 0]), np.array([65_535, 65_535, 0]), 1 << 16, 1 << 16)
    assert top[65_535, 65_535] == 2 and top[0, 0] == 1 and top.nnz == 2


def test_lemma_spans_are_each_words_own_characters() -> None:
    """Lemmatizer.read ends a word at its start plus spaCy's LENGTH (no per-word length memo any more):
    the same span as the token's own idx and text, for every seed text (new words and remembered)."""
    from classifier.features import read_lemmas
    from triage_rules.nlp import get_nlp

    nlp = get_nlp()
    texts = [example.body for example in load_examples(seed_files())] + ["naïve 😀 e\u0301te\u0301\u00a0ok  \n\tI'm"]
    for _ in range(2):  # the first time most words are new, then remembered
        for text in texts:
            doc = nlp.make_doc(text)
            read = read_lemmas(doc)
            spans = [(token.idx, token.idx + len(token.text)) for token in doc if token.text.strip()]
            assert set(zip(read.starts, read.ends, strict=True)) <= set(spans)
            for start, end in zip(read.starts, read.ends, strict=True):
                assert text[start:end] == doc.char_span(start, end).text  # type: ignore[union-attr]
