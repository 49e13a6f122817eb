"""The one shared spaCy pipeline: a blank English tokenizer plus the lookup lemmatizer.

Rules and the classifier both tokenise with it, so a `Doc` made once can serve both. It is blank
(no statistical model) because nothing may be downloaded at run time and because it is fast: the
lookup tables come from the `spacy-lookups-data` package.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Token

# The lookup lemmatizer looks words up exactly as written, so "Leaking" keeps "Leaking" as its
# lemma. Rules need case-blind lemmas; `token._.lower_lemma` gives the lemma of the lower-cased word.
LOWER_LEMMA = "lower_lemma"


@cache
def get_nlp() -> Language:
    """Build the pipeline once per process; every caller shares the same object (and vocab)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    lemmatizer: Any = nlp.get_pipe("lemmatizer")
    table = lemmatizer.lookups.get_table("lemma_lookup")
    Token.set_extension(LOWER_LEMMA, getter=lambda token: table.get(token.lower_, token.lower_), force=True)
    return nlp
