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
