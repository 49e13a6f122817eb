"""spaCy's tokenizer with its per-chunk cache kept useful: sized for a corpus's words, and filled for
the chunks it would otherwise tokenise afresh every time.

The tokenizer splits a text at whitespace into chunks ("boiler,", "isn't") and remembers each chunk's
tokens. Two things keep most of a warm pass from using that memory: it holds 10,000 chunks (the
seed corpus alone has ~23,000 distinct ones), and within a Doc it remembers nothing after the first
special case it meets ("I'm", "don't", ":)": spaCy issue #1250), so every later chunk of such a Doc
goes through the prefix, suffix and infix regexes again, message after message.

A chunk's tokens depend on the chunk alone (its cache is keyed by the chunk's text), so tokenising a
chunk on its own remembers exactly what tokenising it inside any text would: each new chunk of a
batch is tokenised once before the batch (alone, or with other chunks that cannot hold a special
case), and the batch's Docs then find it remembered.
A chunk that holds a special case is not remembered either way, and is tokenised as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from spacy.tokens import Doc

from triage_rules.nlp import get_nlp

# Chunks spaCy may remember (each a few pointers to lexemes that exist anyway): enough for a busy
# service's vocabulary. The seed corpus's ~24,000 cost the bench's worker 0-3 MB of RSS over main's
# (docs/benchmarks.md, classifier sixth round).
MAX_CACHED_CHUNKS = 60_000


class WarmTokenizer:
    """`pipe()` as spaCy's tokenizer's, with each chunk's tokens remembered before the Docs are made."""

    def __init__(self, tokenizer: Any | None = None) -> None:
        nlp_tokenizer: Any = get_nlp().tokenizer
        self._tokenizer: Any = tokenizer if tokenizer is not None else nlp_tokenizer
        self._tokenizer.max_cache_size = max(self._tokenizer.max_cache_size, MAX_CACHED_CHUNKS)
        self._warmed: set[str] = set()  # chunks already tokenised alone (or found not worth it)
        self._special_cases = frozenset(self._tokenizer.rules or ())
        self._longest_special_case = max(map(len, self._special_cases), default=0)

    def warm(self, texts: Iterable[str]) -> None:
        """Tokenise alone each chunk of `texts` not seen before, while spaCy still has room for it."""
        if len(self._warmed) >= MAX_CACHED_CHUNKS:
            return  # spaCy's cache is full: what it holds now is what it will hold
        new: set[str] = set()
        for text in texts:
            new.update(text.split())  # str.split and the tokenizer both split at str.isspace()
        new -= self._warmed
        tokenizer = self._tokenizer
        # Chunks that cannot meet a special case are all remembered from one Doc of them together
        # (a Doc each costs more than the chunk's tokenising). The others go one Doc each.
        plain = [chunk for chunk in new if self._cannot_meet_a_special_case(chunk)]
        if plain:
            tokenizer(" ".join(plain))
        for chunk in new.difference(plain):
            tokenizer(chunk)
        self._warmed |= new

    def _cannot_meet_a_special_case(self, chunk: str) -> bool:
        """Whether tokenising `chunk` surely meets no special case (which would stop spaCy remembering
        the chunks after it in the same Doc).

        Letters only and not a special case itself: no affix to split off, so the only piece looked
        up is the chunk. Otherwise the tokenizer looks up (spacy/tokenizer.pyx, `_split_affixes`
        and `_attach_tokens`) the chunk less prefixes at its start and suffixes at its end: a piece
        that starts after some prefixes. Every English prefix is a run of non-alphanumeric
        characters except "US$", "C$" and "A$", so with no "$" in the chunk a piece starts at or
        before its first letter or digit; if no special case starts there, none can be met (infix
        pieces are never looked up). Conservative: a chunk in doubt goes alone, as before."""
        special_cases = self._special_cases
        if chunk.isalpha():
            return chunk not in special_cases
        if "$" in chunk:
            return False
        length = len(chunk)
        lead = 0
        while lead < length and not chunk[lead].isalnum():
            lead += 1
        longest = self._longest_special_case
        return not any(chunk[start:end] in special_cases
                       for start in range(min(lead, length - 1) + 1)
                       for end in range(start + 1, min(length, start + longest) + 1))

    def pipe(self, texts: list[str], batch_size: int = 256) -> Iterator[Doc]:
        self.warm(texts)
        return self._tokenizer.pipe(texts, batch_size=batch_size)  # type: ignore[no-any-return]


@cache
def warm_tokenizer() -> WarmTokenizer:
    """The process-wide one, over the shared pipeline's tokenizer (whose cache it fills)."""
    return WarmTokenizer()
