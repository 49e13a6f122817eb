"""What the model reads: lemmas, character n-grams, agent words weighted down."""

from __future__ import annotations

import numpy as np

from classifier.features import FeatureBuilder, FeatureSettings, TextForModel, char_string, lemma_string
from triage_rules.nlp import get_nlp


def _lemmas(text: str) -> str:
    return lemma_string(get_nlp().make_doc(text))


def test_lemmas_are_lower_case_and_inflections_collapse() -> None:
    assert _lemmas("Leaking taps LEAKED") == "leak tap leak"


def test_numbers_urls_and_emails_become_placeholders() -> None:
    assert _lemmas("job ref 4471823 see https://example.org or mail a@b.com") == (
        "job ref #num see #url or mail #email"
    )


def test_question_and_exclamation_marks_are_kept_other_punctuation_dropped() -> None:
    assert _lemmas("When, exactly?! (soon)") == "when exactly ? ! soon"


def test_char_text_collapses_digits_and_spaces() -> None:
    assert char_string("Flat  12\nLarch   Close") == "flat 0 larch close"


def test_char_text_collapses_every_kind_of_whitespace_as_a_regex_would() -> None:
    """char_string joins str.split(); it was a \\s+ substitution then strip(): the same for every
    whitespace character Python knows (no-break, line separator, ideographic, file separators...)."""
    import re

    spaces = "".join(chr(code) for code in range(0x110000) if chr(code).isspace())
    texts = [f"{spaces}Boiler{spaces[::-1]}12 broken{spaces}", spaces, "", "a\u00a0b\u2028c\u3000 d\x1c\x85e  "]
    for text in texts:
        lowered = re.sub(r"\d+", "0", text.lower())
        assert char_string(text) == re.sub(r"\s+", " ", lowered).strip()


def _item(lemmas: str, agent: str = "") -> TextForModel:
    return TextForModel(lemmas=lemmas, chars=lemmas, meta="channel=sms", agent_lemmas=agent, agent_chars=agent)


def test_agent_words_count_less_than_the_callers() -> None:
    training = [_item("boiler broken again"), _item("thank you lovely job"), _item("boiler again lovely")]
    builder = FeatureBuilder(FeatureSettings(use_chars=False, min_df=1, agent_weight=0.3)).fit(training)
    matrix = builder.transform([_item("boiler", agent="lovely")]).toarray()[0]
    vocabulary = builder.word.vocabulary_  # type: ignore[union-attr]
    assert matrix[vocabulary["lovely"]] == np.float32(0.3) * matrix[vocabulary["boiler"]]


def test_agent_words_can_be_dropped() -> None:
    training = [_item("boiler broken"), _item("lovely job")]
    builder = FeatureBuilder(FeatureSettings(use_chars=False, min_df=1, agent_weight=0.0)).fit(training)
    matrix = builder.transform([_item("boiler", agent="lovely")]).toarray()[0]
    assert matrix[builder.word.vocabulary_["lovely"]] == 0  # type: ignore[union-attr]


def test_saved_parts_rebuild_the_same_features() -> None:
    training = [_item("boiler broken again"), _item("thank you lovely job"), _item("boiler again lovely")]
    settings = FeatureSettings(min_df=1, use_meta=True)
    builder = FeatureBuilder(settings).fit(training)
    rebuilt = FeatureBuilder.from_parts(builder.parts(), settings)
    probe = [_item("broken boiler, lovely", agent="again")]
    assert (builder.transform(probe) != rebuilt.transform(probe)).nnz == 0
    assert rebuilt.n_features == builder.n_features
