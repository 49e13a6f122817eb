"""The classifier's fast paths give exactly what the plain way gives, on the whole seed corpus.

Each shortcut taken for speed (lemmas read in C, a batch's n-grams counted at once, subject and
body tokenised once for rules and model, the explanation's terms cut with NumPy, one regex for all
disclaimers) is compared here with the straightforward version it replaced.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from classifier.classifier import Classifier
from classifier.data import LabelledExample, load_examples, seed_files
from classifier.encoding import MessageInput, encode
from classifier.explanation import RowView, WordMap, _is_hidden
from classifier.features import (
    FeatureBuilder,
    TextForModel,
    _lemmatizer,
    counted_matrix,
    lemma_tokens,
    read_lemmas,
)
from classifier.preparation import prepare
from classifier.preparation.email import strip_disclaimer
from triage_rules.nlp import get_nlp


@cache
def _seed() -> list[LabelledExample]:
    return load_examples(seed_files())


@cache
def _encoded() -> list[TextForModel]:
    seed = _seed()
    items = encode([MessageInput(e.body, e.channel, e.subject, e.sender, e.sender_name) for e in seed])
    return [item.model_input for item in items if item.model_input is not None]


def test_lemmas_and_their_spans_are_each_tokens_own() -> None:
    nlp = get_nlp()
    for example in _seed()[::3]:
        doc = nlp.make_doc(example.body)
        read = read_lemmas(doc)
        # Token by token, each word worked out afresh (no memo)
        reference = [(lemma, token.idx, token.idx + len(token.text))
                     for token in doc if (lemma := _lemmatizer()._token_for(token.orth))]
        assert list(zip(read.lemmas, read.starts, read.ends, strict=True)) == reference
        assert read.lemmas == lemma_tokens(doc)


def test_subject_and_body_tokenised_apart_give_the_lemmas_of_the_model_text() -> None:
    """encode() tokenises an email or web form's subject and body once each (the rules read them
    apart) and joins their lemmas; the model used to tokenise "subject\\ntext" as one."""
    nlp = get_nlp()
    compared = 0
    for example in _seed():
        prepared = prepare(example.body, channel=example.channel, subject=example.subject)
        if not prepared.subject or prepared.unusable:
            continue
        joined = read_lemmas(nlp.make_doc(prepared.subject)).then(read_lemmas(nlp.make_doc(prepared.text)),
                                                                   len(prepared.subject) + 1)
        assert joined == read_lemmas(nlp.make_doc(f"{prepared.subject}\n{prepared.text}")), example.id
        compared += 1
    assert compared > 500


def test_encode_gives_the_rules_the_same_hits_as_tokenising_each_field_itself() -> None:
    from triage_rules.rules import load_rule_engine

    engine = load_rule_engine()
    seed = [e for e in _seed() if e.channel in ("email", "web_form")][::2]
    items = encode([MessageInput(e.body, e.channel, e.subject, e.sender, e.sender_name) for e in seed], engine=engine)
    for example, item in zip(seed, items, strict=True):
        assert item.hits == engine.match(item.prepared.rules_text, subject=item.prepared.subject, sender=example.sender,
                                         sender_name=example.sender_name, channel=example.channel), example.id


@pytest.fixture(scope="module")
def builder() -> FeatureBuilder:
    return FeatureBuilder().fit(_encoded()[::2])


def test_a_batch_counted_at_once_is_each_message_counted_alone(builder: FeatureBuilder) -> None:
    items = _encoded()[:300]
    batch = builder.transform(items)
    for row, item in enumerate(items):
        counted, alone = batch[row].sorted_indices(), builder.transform([item]).sorted_indices()
        assert (counted.indices == alone.indices).all() and (counted.data == alone.data).all()


def test_features_are_scikit_learns_own(builder: FeatureBuilder) -> None:
    items = _encoded()[:400]
    for name, vectorizer, documents in (("word", builder.word, [item.lemmas for item in items]),
                                        ("char", builder.char, [item.chars for item in items])):
        assert vectorizer is not None
        ours, reference = builder._vectorize(name, vectorizer, documents), vectorizer.transform(documents)
        reference.sort_indices()
        assert (ours.indptr == reference.indptr).all() and (ours.indices == reference.indices).all(), name
        np.testing.assert_allclose(ours.data, reference.data, rtol=1e-6, atol=1e-7)


def test_pairs_counted_by_radix_sort_are_np_uniques_count() -> None:
    """counted_matrix sorts by column then row (stable 16-bit radix sorts) instead of np.unique's
    comparison sort of row * n_columns + column: the same CSR arrays, dtypes included."""
    from classifier.features import counted_matrix_by_unique as reference

    generator = np.random.default_rng(7)
    for trial in range(120):
        n_rows, n_columns = int(generator.integers(1, 300)), int(generator.integers(1, 70_000))
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), generator.integers(0, 40, n_rows))
        # every other trial draws from few columns: many repeated pairs within a row
        high = n_columns if trial % 2 else min(n_columns, int(generator.integers(1, 60)))
        columns = generator.integers(0, high, len(rows)).astype(np.int64)
        if trial % 3 == 0:  # what _char_entries hands over
            rows, columns = rows.astype(np.int32), columns.astype(np.int32)
        ours, theirs = counted_matrix(rows, columns, n_rows, n_columns), reference(rows, columns, n_rows, n_columns)
        assert ours.shape == theirs.shape
        for name in ("indptr", "indices", "data"):
            mine, expected = getattr(ours, name), getattr(theirs, name)
            assert mine.dtype == expected.dtype and np.array_equal(mine, expected), (trial, name)
        assert ours.has_sorted_indices


def _reference_words_for(words: WordMap, term: str) -> tuple[str, list[tuple[int, int]]] | None:
    from classifier.explanation import spans_in

    parts, lemmas = term.split(" "), words.lemmas
    for first in range(len(lemmas.lemmas) - len(parts) + 1):
        if lemmas.lemmas[first:first + len(parts)] == parts:
            text = words.model_text[lemmas.starts[first]:lemmas.ends[first + len(parts) - 1]]
            return text, spans_in(words.original, text)
    return None


def test_top_terms_are_the_plain_walk_over_the_sorted_contributions(small_classifier: Classifier) -> None:
    explainer = small_classifier._explainer
    model = small_classifier.model
    seed = _seed()[::7]
    encoded = encode([MessageInput(e.body, e.channel, e.subject, e.sender, e.sender_name) for e in seed])
    usable = [item for item in encoded if item.model_input is not None and item.lemmas is not None]
    features = model.features([item.model_input for item in usable])  # type: ignore[misc]
    for row, item in enumerate(usable):
        words = WordMap(item.lemmas, item.model_text, item.message.text)  # type: ignore[arg-type]
        values = features[row]
        for type_index in range(len(model.types)):
            weights = explainer.type_weights[type_index]
            inside = values.indices < len(weights)
            contributions = values.data[inside] * weights[values.indices[inside]]
            expected: list[tuple[object, ...]] = []
            # Largest first, equal contributions in column order (Python's sort is stable)
            walk = sorted(range(len(contributions)),
                          key=lambda index: (-float(contributions[index]), int(values.indices[inside][index])))
            for index in walk:
                if contributions[index] <= 0 or len(expected) == 6:
                    break
                term = str(explainer.names[values.indices[inside][index]])
                found = None if _is_hidden(term) else _reference_words_for(words, term)
                if found is not None:
                    expected.append((term, round(float(contributions[index]), 4), *found))
            got = [(t.term, t.weight, t.text, t.spans) for t in explainer.type_terms(values, type_index, words)]
            assert got == expected


def test_one_regex_for_all_disclaimers_cuts_where_the_first_of_them_would() -> None:
    from classifier.preparation.email import strip_disclaimer_pattern_by_pattern as reference

    texts = [e.body for e in _seed() if e.channel == "email"] + [
        "Disclaimer: confidential\nThe boiler is broken.\nThis email and any attachments are confidential.",
        "This email is confidential\nThe boiler is broken.\nRegistered office: 1 High St",
        "The boiler is broken.\n\nThis email and any attachments are confidential and intended for you.",
    ]
    cut = [text for text in texts if strip_disclaimer(text) != text.rstrip()]
    assert len(cut) >= 3
    assert [strip_disclaimer(text) for text in texts] == [reference(text) for text in texts]


def test_a_batchs_terms_found_at_once_are_each_rows_own(small_classifier: Classifier) -> None:
    """explain_batch (the batch's contributions in a few NumPy calls) gives, for every row and weight
    vector, what _top gives for that row alone, on seed messages with calls among them (their agent
    side leaves the batch's rows unsorted)."""
    explainer = small_classifier._explainer
    seed = _seed()[::5]
    assert any(example.channel == "call_transcript" for example in seed)
    encoded = encode([MessageInput(e.body, e.channel, e.subject, e.sender, e.sender_name) for e in seed])
    usable = [item for item in encoded if item.model_input is not None and item.lemmas is not None]
    features = small_classifier.model.features([item.model_input for item in usable])  # type: ignore[misc]
    requests = [(row, vector) for row in range(len(usable)) for vector in range(len(explainer.stacked))]
    words = [WordMap(usable[row].lemmas, usable[row].model_text, usable[row].message.text)  # type: ignore[arg-type]
             if row % 2 else None for row, _ in requests]
    got = explainer.explain_batch(features, requests, words)
    expected = [explainer._top(RowView.of(features, row), explainer.stacked[vector], words[k])
                for k, (row, vector) in enumerate(requests)]
    assert got == expected
    assert sum(map(len, got)) > len(requests)  # most requests have terms: the comparison says something
