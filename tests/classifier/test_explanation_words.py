"""Words that mattered are the resident's own words, found where they are in the message."""

from __future__ import annotations

from classifier.classifier import Classifier
from classifier.encoding import MessageInput
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


def _spans_by_regex(original: str, words: str) -> list[tuple[int, int]]:
    """What spans_in did before it stopped compiling a pattern per term: the reference."""
    import re

    if not words:
        return []
    found = [(m.start(), m.end()) for m in re.finditer(re.escape(words), original)]
    if found:
        return found
    loose = r"\s+".join(re.escape(part) for part in words.split())
    return [(m.start(), m.end()) for m in re.finditer(loose, original, flags=re.IGNORECASE)]


def test_exact_spans_are_found_like_a_regex_search_would() -> None:
    cases = [
        ("aaaa", "aa"), ("the leak, the leak and THE LEAK", "the leak"), ("a.b a*b", "a*b"),
        ("no match here", "leak"), ("Leak\tagain", "leak again"), ("x(y) x(y)", "x(y)"), ("", "a"),
    ]
    for original, words in cases:
        assert spans_in(original, words) == _spans_by_regex(original, words), (original, words)


def test_a_feature_row_is_read_as_the_matrix_row_holds_it(small_classifier: Classifier) -> None:
    import numpy as np

    from classifier.encoding import MessageInput, encode
    from classifier.explanation import RowView

    items = encode([MessageInput("the boiler is broken again", "sms"), MessageInput("thanks for the repair", "sms")])
    features = small_classifier.model.features([item.model_input for item in items])  # type: ignore[misc]
    for row in range(features.shape[0]):
        view, reference = RowView.of(features, row), features[row]
        assert np.array_equal(view.indices, reference.indices) and np.array_equal(view.data, reference.data)
        weights = small_classifier._explainer.type_weights[0]
        assert small_classifier._explainer._top(view, weights, None) == small_classifier._explainer._top(
            reference, weights, None)


def test_a_loose_search_ruled_out_without_a_pattern_is_the_patterns_answer() -> None:
    """spans_in skips compiling the loose pattern when, in ASCII, a word of the term is not in the
    lowered original: the pattern would have found nothing there either."""
    import re

    originals = ["The BOILER is  broken\nagain", "u wont beleive it, no heat", "Flat 3\tkitchen tap", "KELVIN k s ſ",
                 "İstanbul ısı", ""]
    terms = ["boiler is broken", "boiler  IS", "you will not", "kitchen tap", "tap leaking", "k s", "s", "ı", "x y"]
    for original in originals:
        for words in terms:
            pattern = re.compile(r"\s+".join(re.escape(part) for part in words.split()), flags=re.IGNORECASE)
            exact = [(m.start(), m.end()) for m in re.finditer(re.escape(words), original)]
            assert spans_in(original, words) == (exact or [(m.start(), m.end()) for m in pattern.finditer(original)])


# Messages whose explanations show terms of exactly equal weight in the small model (a word and the
# n-gram it always comes with in training, e.g. "carbon" and "carbon monoxide").
TIED_MESSAGES = [
    ("the carbon monoxide alarm in the hall is doing a little chirp every minute, think its the battery "
     "but its the sealed type so i cant change it. can some1 swap it. 31 Thistle Way", "sms"),
    ("I've just been given a mobility scooter and there's no room for it in my flat. The corridor outside my "
     "door is quite wide. Am I allowed to keep it there and charge it from the socket by the bin store?", "web_form"),
    ("My mother is your tenant at 27 Poplar Walk. I found receipts in her kitchen drawer for roofing work "
     "over the last month, plus a bank statement. I need to ask whether you sent anyone.", "email"),
]
CALL = ("Caller: hi, the boiler's gone off and there's no hot water\nAgent: I'm sorry to hear that, "
        "can I take your address\nCaller: 4 Elm Road, and my baby is only six weeks old")


def test_one_message_gets_the_same_explanation_alone_and_in_a_batch_with_a_call(
    small_classifier: Classifier,
) -> None:
    """A call's agent side reorders the batch's feature rows; terms of equal weight must still come
    out in one order (the term's column), whatever else is in the batch."""
    tied = 0
    for text, channel in TIED_MESSAGES:
        message = MessageInput(text, channel)
        alone = small_classifier.classify_many([message])[0].explanation
        mixed = small_classifier.classify_many([MessageInput(CALL, "call_transcript"), message])[1].explanation
        assert alone.type_terms == mixed.type_terms
        assert alone.category_terms == mixed.category_terms
        weights = [term.weight for term in alone.type_terms]
        tied += len(weights) - len(set(weights))
    assert tied, "no shown terms of equal weight: these messages no longer test the tie-break"
