"""The warm tokenizer gives the Docs spaCy's tokenizer gives, with far fewer chunks tokenised afresh."""

from __future__ import annotations

import spacy

from classifier.data import load_examples, seed_files
from classifier.tokenizing import MAX_CACHED_CHUNKS, WarmTokenizer


def _tokens(doc: spacy.tokens.Doc) -> list[tuple[str, str, int]]:
    return [(token.text, token.whitespace_, token.idx) for token in doc]


def test_every_seed_text_is_tokenised_as_without_any_cache_twice_over() -> None:
    examples = load_examples(seed_files())
    texts = [example.body for example in examples] + [example.subject for example in examples if example.subject]
    texts += ["I'm here :) and the boiler's broken... again!!", "don't\n\ncan't  won't\tisn't"]
    plain = spacy.blank("en").tokenizer
    plain.max_cache_size = 0  # every chunk tokenised afresh: the reference
    warm = WarmTokenizer(spacy.blank("en").tokenizer)
    expected = [_tokens(doc) for doc in plain.pipe(texts)]
    for _ in range(2):  # the first pass fills the cache, the second reads it
        assert [_tokens(doc) for doc in warm.pipe(texts)] == expected


def _suffix_searches_to_tokenise_again(tokenizer: object, pipe: object, text: str) -> int:
    """How often the suffix regex runs when `text` is tokenised a second time (none: all remembered)."""
    searches = 0
    search = tokenizer.suffix_search  # type: ignore[attr-defined]

    def counted(chunk: str) -> object:
        nonlocal searches
        searches += 1
        return search(chunk)

    tokenizer.suffix_search = counted  # type: ignore[attr-defined]  # (spaCy empties its cache here)
    list(pipe([text]))  # type: ignore[operator]
    searches = 0
    list(pipe([text]))  # type: ignore[operator]
    return searches


def test_chunks_after_a_special_case_are_remembered() -> None:
    text = "I'm told the radiators (downstairs) are not fixed, dont know why, again."
    plain = spacy.blank("en").tokenizer
    warm = WarmTokenizer(spacy.blank("en").tokenizer)
    # spaCy alone remembers nothing after "I'm": its chunks go through the affix regexes every time
    assert _suffix_searches_to_tokenise_again(plain, plain.pipe, text) > 0
    assert _suffix_searches_to_tokenise_again(warm._tokenizer, warm.pipe, text) == 0
    assert warm._tokenizer.max_cache_size == MAX_CACHED_CHUNKS


def test_chunks_said_to_meet_no_special_case_are_all_remembered_from_one_doc() -> None:
    """The warm-up tokenises together every chunk `_cannot_meet_a_special_case` lets through: had one
    of them met a special case, spaCy would remember none of the chunks after it (issue #1250), and
    tokenising the same Doc again would run the affix regexes for those."""
    examples = load_examples(seed_files())
    texts = [example.body for example in examples] + [example.subject for example in examples if example.subject]
    texts += ["I'm here :) (don't) 'cause it's 5$ ... again!!", "e.g. a.m. (I'm) :-) US$5 C$4"]
    warm = WarmTokenizer(spacy.blank("en").tokenizer)
    chunks = {chunk for text in texts for chunk in text.split()}
    together = [chunk for chunk in sorted(chunks) if warm._cannot_meet_a_special_case(chunk)]
    assert len(together) > 0.9 * len(chunks)  # most punctuated words too, not only letters-only ones
    assert not any(warm._cannot_meet_a_special_case(chunk) for chunk in ("I'm", "(I'm)", ":)", "a.m.", "US$5"))
    assert _suffix_searches_to_tokenise_again(warm._tokenizer, warm._tokenizer.pipe, " ".join(together)) == 0
