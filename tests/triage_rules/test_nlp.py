"""The shared pipeline: one blank English tokenizer with the lookup lemmatizer, built once."""

from __future__ import annotations

from triage_rules.nlp import LOWER_LEMMA, get_nlp


def test_the_pipeline_is_shared() -> None:
    assert get_nlp() is get_nlp()


def test_it_is_a_blank_english_pipeline_with_a_lookup_lemmatizer() -> None:
    nlp = get_nlp()
    assert nlp.lang == "en"
    assert nlp.pipe_names == ["lemmatizer"]
    doc = nlp("The children were smelling gas")
    assert [token.lemma_ for token in doc][1:4] == ["child", "be", "smell"]


def test_lower_lemma_ignores_case() -> None:
    doc = get_nlp().make_doc("SMELLING Leaking")
    assert [token._.get(LOWER_LEMMA) for token in doc] == ["smell", "leak"]
