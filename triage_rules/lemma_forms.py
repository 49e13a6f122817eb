"""Every written form of a lemma, from the same lookup table the shared lemmatizer uses.

Rules say `{LEMMA: smell}` and mean any case of any form ("Smelt", "SMELLING"). The lookup
lemmatizer is case-sensitive and a token extension is slow inside the Matcher, so the engine
rewrites a LEMMA test into a LOWER test over the lemma's forms, once, at load: matching then
costs nothing extra.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

import spacy_lookups_data

LOOKUP_FILE = "en_lemma_lookup.json"


@cache
def _forms_by_lemma() -> dict[str, list[str]]:
    compressed = spacy_lookups_data.get_file(LOOKUP_FILE + ".gz")
    if compressed.is_file():
        with gzip.open(str(compressed), "rt", encoding="utf-8") as handle:
            table: dict[str, str] = json.load(handle)
    else:
        table = json.loads(spacy_lookups_data.get_file(LOOKUP_FILE).read_text(encoding="utf-8"))
    forms: dict[str, list[str]] = defaultdict(list)
    for form, lemma in table.items():
        forms[lemma.lower()].append(form.lower())
    return forms


def forms_of(lemmas: Iterable[str]) -> list[str]:
    """The lemmas themselves and every form the lookup table lemmatises to one of them, lower-cased."""
    table = _forms_by_lemma()
    found: set[str] = set()
    for lemma in lemmas:
        lemma = lemma.lower()
        found.add(lemma)
        found.update(table.get(lemma, ()))
    return sorted(found)


def forget_forms() -> None:
    """Drop the table read by `forms_of` (it is read again if needed)."""
    _forms_by_lemma.cache_clear()
