"""Words that mattered are the resident's own words, found where they are in the message."""

from __future__ import annotations

from classifier.classifier import Classifier
from classifier.explanation import HIDDEN_TERMS, spans_in


def test_every_term_is_shown_as_the_residents_words_at_their_place(small_classifier: Classifier) -> None:
    text = ("Dear Sir,\n\nThis is the third time I have reported the leak and nobody has been. "
            "I have been waiting since March and I am still being ignored.\n\nMrs Jones")
    result = small_classifier.classify(text, channel="email")
    terms = result.explanation.type_terms + [t for ts in result.explanation.category_terms.values() for t in ts]
    assert terms
    for term in terms:
        assert term.text and term.spans, term
        for start, end in term.spans:
            assert text[start:end].lower() == term.text.lower()
        assert not all(part in HIDDEN_TERMS for part in term.term.split())


def test_expanded_sms_shorthand_keeps_its_words_without_a_false_span(small_classifier: Classifier) -> None:
    text = "this is the 3rd time ive txt about the fan no1 has been"
    result = small_classifier.classify(text, channel="sms")
    for term in result.explanation.type_terms:
        for start, end in term.spans:
            assert text[start:end].lower() == term.text.lower()


def test_spans_are_found_ignoring_case_and_spacing() -> None:
    assert spans_in("Nobody  has\nBEEN here", "nobody has been") == [(0, 16)]
    assert spans_in("abc", "") == []
