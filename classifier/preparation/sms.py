"""Text messages: expand common shorthand ("pls", "sum1", "2moro") from a data table."""

from __future__ import annotations

import re
from functools import cache

from classifier.resources import load_resource

# A "word" here may contain digits and a slash ("sum1", "2day", "w/"), so the table can hold them.
_WORD = re.compile(r"(?<![\w'/])[\w/]+(?![\w'/])")


@cache
def shorthand_table() -> dict[str, str]:
    raw = load_resource("sms_shorthand.yaml")["shorthand"]
    return {str(short).lower(): str(long) for short, long in raw.items()}


def expand_shorthand(text: str) -> str:
    table = shorthand_table()

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        return table.get(word.lower(), word)

    return _WORD.sub(replace, text)
