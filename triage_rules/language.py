"""Which language a message is in, cheaply and conservatively.

Most messages are plainly English ASCII, and those never reach the detector: enough common English
words settles it. The rest go to lingua, built once with only the languages UK housing residents
most often write in, in low-accuracy mode (trigram models only: small and fast) with the models
preloaded so no call pays for loading. Short English texts full of typos or SMS shorthand look
like nothing in particular to a detector, so a text is called non-English only when the detector
is sure AND few of its words are English.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder
from spacy.lang.en.stop_words import STOP_WORDS

# The languages most often met in UK social housing besides English (plus Welsh).
LANGUAGES = (
    Language.ENGLISH, Language.POLISH, Language.ROMANIAN, Language.LITHUANIAN, Language.PORTUGUESE,
    Language.SPANISH, Language.FRENCH, Language.ITALIAN, Language.TURKISH, Language.ALBANIAN,
    Language.URDU, Language.PUNJABI, Language.BENGALI, Language.GUJARATI, Language.HINDI,
    Language.TAMIL, Language.ARABIC, Language.PERSIAN, Language.SOMALI, Language.RUSSIAN,
    Language.UKRAINIAN, Language.CHINESE, Language.WELSH,
)
# Below this many letters (words) there is too little text to tell; non-Latin scripts such as
# Chinese write more per letter and without spaces, so they need fewer.
MIN_LETTERS = 12
MIN_WORDS = 3
MIN_NON_LATIN_LETTERS = 6
# Only the start of a long text is looked at: it says what language it is in.
SAMPLE_CHARS = 2_000
# At least this share of words being common English words makes a Latin-script text English.
ENGLISH_WORD_SHARE = 0.3
# How sure lingua must be before a Latin-script text is called non-English.
MIN_CONFIDENCE = 0.8

WORD = re.compile(r"[^\W\d_]+")
# In ASCII, WORD's runs are the runs of letters: every other byte made a space, str.split finds them
_LETTERS_ONLY = bytes(byte if chr(byte).isalpha() and byte < 128 else 32 for byte in range(256))
# Words English messages use that are not stop words: SMS shorthand and the housing vocabulary.
ENGLISH_WORDS = frozenset(STOP_WORDS) | {
    "pls", "plz", "please", "thx", "thanks", "thank", "ta", "u", "ur", "im", "ive", "id", "ill", "dont",
    "cant", "wont", "didnt", "doesnt", "isnt", "its", "thats", "asap", "hi", "hello", "yeah", "yes", "ok",
    "okay", "tho", "cos", "cause", "coz", "gonna", "wanna", "hv", "b", "r", "n", "wiv", "wen", "wat",
    "flat", "house", "home", "repair", "repairs", "boiler", "heating", "water", "leak", "leaking", "tap",
    "door", "window", "roof", "damp", "mould", "rent", "council", "housing", "officer", "broken", "come",
    "someone", "fix", "still", "again", "need", "needs", "help", "today", "tomorrow", "week", "weeks",
    "day", "days", "told", "said", "call", "rang", "phone", "number", "kitchen", "bathroom", "toilet",
    "gas", "smell", "light", "electric", "no", "not", "working", "work", "sorted", "happy", "good", "bad",
}


@cache
def _detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*LANGUAGES)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the main language of `text` ("en", "pl", ...), or None when too little text."""
    return _language_of_sample((text or "")[:SAMPLE_CHARS])


# The rule engine and the classifier both ask about the same message; the answer depends only on
# the (bounded) sample, so remembering recent samples halves the work and bounds the memory.
@lru_cache(maxsize=1024)
def _language_of_sample(sample: str) -> str | None:
    # map() over C methods rather than per-word bytecode: most samples take only this path.
    ascii_only = sample.isascii()
    # ASCII lower-casing maps letter to letter in place: the words of the lowered sample are the
    # lowered words, found with one lower() instead of one per word.
    words = (sample.lower().encode().translate(_LETTERS_ONLY).decode().split() if ascii_only
             else list(map(str.lower, WORD.findall(sample))))
    letters = sum(map(len, words))
    latin = words if ascii_only else [word for word in words if word.isascii() or _is_latin(word)]
    mostly_latin = len(latin) * 2 >= len(words)
    if mostly_latin and (letters < MIN_LETTERS or len(words) < MIN_WORDS) or letters < MIN_NON_LATIN_LETTERS:
        return None
    if mostly_latin:
        english = sum(map(ENGLISH_WORDS.__contains__, latin))
        if english >= ENGLISH_WORD_SHARE * len(latin):
            return "en"  # the cheap path: most messages stop here
    best = _detector().compute_language_confidence_values(sample)
    if not best:
        return None
    top = best[0]
    if top.language == Language.ENGLISH:
        return "en"
    if mostly_latin and top.value < MIN_CONFIDENCE:
        return "en"  # a Latin-script text the detector is unsure about: assume English typos/shorthand
    return top.language.iso_code_639_1.name.lower()


def is_non_english(text: str) -> bool:
    """True only when the text is clearly, mainly in another language."""
    language = detect_language(text)
    return language is not None and language != "en"


def warm_up() -> None:
    """Build the detector and run it once now, rather than make the first foreign message wait."""
    _detector().compute_language_confidence_values("Dzień dobry, proszę o naprawę okna.")


def _is_latin(word: str) -> bool:
    # Latin letters with diacritics (ą, ł, ș, é, ü ...) sit below U+0250.
    return all(ord(char) < 0x250 for char in word)
