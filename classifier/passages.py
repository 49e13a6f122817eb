"""A long message read passage by passage for risk: a disclosure buried in a long email is not lost.

The model reads a message as one bag of words, normalised over all of them, so a safeguarding
disclosure or a hazard in one paragraph of a long email about a service charge carries little
weight against the rest, and the flag models stayed below their thresholds for such messages
written by people who had not seen the model (docs/classifier_safeguarding.md, the fifth and
sixth writers' sets). So a long message that is missing a risk flag is also read a paragraph at a
time (a call a few caller turns at a time), by the flag models only, and a passage's probability
counts as the message's when it is higher.

Only the flag models are run on passages: the rules already read the whole text wherever a
phrase sits, and the type, categories and explanation stay the whole message's. Passages are
tokenised with the shared tokenizer, whose cache already holds the message's own words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from classifier.features import TextForModel, char_string, read_lemmas
from classifier.tokenizing import warm_tokenizer

# The flags a passage can raise: the ones that send a message to a person the same day.
RISK_FLAGS = ("safeguarding", "urgent_safety")
# Shorter messages are read well enough whole (and most messages are short: it costs them nothing).
MIN_MESSAGE_CHARS = 500
# A paragraph shorter than this is a greeting or a sign-off, not a passage.
MIN_PASSAGE_CHARS = 30
# A passage raises a flag only when the flag model is this sure of it, above the flag's own
# threshold: a short passage's probabilities run to the extremes more easily than a whole message's.
# On the seed corpus's held-out split the passages that would have raised a flag wrongly read
# 0.49-0.73 (an MP's letter about a damp bedroom, an 88-year-old sleeping downstairs for want of a
# stairlift); the buried disclosures of the sixth writer's set read 0.69-0.96.
MIN_PASSAGE_PROBABILITY = 0.75
# A call transcript (or any text without blank lines) is read this many lines at a time, each
# window overlapping the next by one line so a disclosure across two turns stays together.
PASSAGE_LINES = 4

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def passages_of(text: str) -> list[str]:
    """The passages a long text is read in: its paragraphs, or windows of lines; [] when it is
    short or has only one passage (then the whole message's reading is the passage's)."""
    if len(text) < MIN_MESSAGE_CHARS:
        return []
    paragraphs = [part.strip() for part in _PARAGRAPH_BREAK.split(text) if len(part.strip()) >= MIN_PASSAGE_CHARS]
    if len(paragraphs) >= 2:
        return paragraphs
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) <= PASSAGE_LINES:
        return []
    step = PASSAGE_LINES - 1
    return ["\n".join(lines[start:start + PASSAGE_LINES]) for start in range(0, len(lines) - 1, step)]


def passage_inputs(passages: Sequence[str], meta: str) -> list[TextForModel]:
    """What the model reads for each passage: its own lemmas and characters, and the whole
    message's meta tokens (its channel and the rules that fired on it)."""
    docs = warm_tokenizer().pipe(list(passages), batch_size=256)
    return [TextForModel(lemmas=read_lemmas(doc).text, chars=char_string(passage), meta=meta)
            for passage, doc in zip(passages, docs, strict=True)]
