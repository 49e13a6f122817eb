"""Marks the words that mattered in a text, escaping everything else (the text is a resident's)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

MAX_TERMS = 40
MAX_MARKS = 2000  # past this many, more marks help no reader


@dataclass(frozen=True)
class Term:
    text: str
    kind: str  # "rule" (a rule fired on it) or "term" (the model weighed it)
    note: str  # shown as the title: which rule, or the weight


def _pattern(term: str) -> re.Pattern[str] | None:
    words = [re.escape(word) for word in term.split() if word]
    if not words or len(term) < 2:
        return None
    # Whole words only, any run of whitespace between the words of a phrase.
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def highlight(text: str | None, terms: Iterable[Term]) -> Markup:
    """The text, HTML-escaped, with each term wrapped in <mark>; rules win where spans overlap.

    Linear in the length of the text: each term is one regex scan, and overlaps are checked against
    a byte per character rather than against every span already marked (which was quadratic, and
    let one long message hold a core for minutes). At most MAX_MARKS marks are made.
    """
    text = text or ""
    covered = bytearray(len(text))
    spans: list[tuple[int, int, Term]] = []
    ordered = sorted(terms, key=lambda t: (t.kind != "rule", -len(t.text)))[:MAX_TERMS]
    for term in ordered:
        pattern = _pattern(term.text)
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            start, end = match.span()
            if covered.find(1, start, end) == -1:
                covered[start:end] = b"\x01" * (end - start)
                spans.append((start, end, term))
                if len(spans) >= MAX_MARKS:
                    break
        if len(spans) >= MAX_MARKS:
            break
    spans.sort(key=lambda span: span[0])
    parts: list[str] = []
    position = 0
    for start, end, term in spans:
        parts.append(str(escape(text[position:start])))
        parts.append(
            f'<mark class="{term.kind}" title="{escape(term.note)}">{escape(text[start:end])}</mark>'
        )
        position = end
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))  # noqa: S704 - every piece above was escaped


def explanation_terms(explanation: dict[str, Any]) -> list[Term]:
    """The rules' matched words and the model's strongest positive words, from an item's explanation."""
    terms: list[Term] = []
    for hit in explanation.get("rules") or []:
        if isinstance(hit, dict) and hit.get("matched"):
            terms.append(Term(str(hit["matched"]), "rule", f"rule {hit.get('rule')} → {hit.get('value')}"))
    for weight in explanation.get("type_terms") or []:
        if isinstance(weight, dict) and float(weight.get("weight", 0)) > 0:
            terms.append(Term(str(weight["term"]), "term", f"weight {float(weight['weight']):.2f}"))
    return terms
