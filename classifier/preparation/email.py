"""Email bodies: keep only the newest reply, without quoted history, signature or legal disclaimer.

The reply parser (mail-parser-reply) cuts quoted earlier messages ("On … wrote:", Outlook
headers, "-----Original Message-----") and signatures. Corporate disclaimers that it does not know
(e.g. "UK Parliament Disclaimer: …", "This email and any attachments are confidential …") are
cut by the patterns in resources/email_disclaimers.yaml, which are data so they can grow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from mailparser_reply import EmailReplyParser
from mailparser_reply.parser import EmailMessage

from classifier.resources import load_resource

# Quoted lines left over when a client quotes without a header line.
_QUOTED_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class EmailParts:
    body: str  # the newest reply without signature and disclaimer: what the model reads
    with_signature: str  # the newest reply with its signature: what the rules read (a signature names an MP)
    quoted: str  # the earlier messages quoted below, kept out of both


@cache
def _parser() -> EmailReplyParser:
    return EmailReplyParser(languages=["en"])


# The parser's default takes a line starting "- word" for the start of a signature, and cuts it and
# everything after: residents list their defects with hyphens, and a disclosure written after such a
# list was lost to the model. Only "--" on its own line (and the parser's other signs) start one.
KEEP_HYPHEN_LISTS = True


@cache
def _compiled_patterns() -> dict[str, re.Pattern[str]]:
    """The reply parser's three patterns, built once. `EmailReplyParser.read` makes a new
    `EmailMessage` per email, which builds and compiles them again (they depend only on the
    languages): handed in ready, the message reads the text exactly as it would otherwise."""
    template = EmailMessage(text="", languages=list(_parser().languages), keep_hyphen_lists=KEEP_HYPHEN_LISTS)
    return {"_header_regex": template.HEADER_REGEX, "_disclaimers_regex": template.DISCLAIMERS_REGEX,
            "_signature_regex": template.SIGNATURE_REGEX}


def _read_replies(text: str) -> EmailMessage:
    """What `EmailMessage(text, languages, keep_hyphen_lists=KEEP_HYPHEN_LISTS).read()` returns."""
    return EmailMessage(text=text, languages=_parser().languages, keep_hyphen_lists=KEEP_HYPHEN_LISTS,
                        **_compiled_patterns()).read()


@cache
def _disclaimer_patterns() -> tuple[re.Pattern[str], ...]:
    raw = load_resource("email_disclaimers.yaml")
    return tuple(re.compile(pattern, re.IGNORECASE | re.MULTILINE) for pattern in raw["starts"])


# A signature after a sign-off is short: a name, a role, an address, a phone number.
MAX_SIGNATURE_LINES = 8
MAX_SIGNATURE_CHARS = 400


def _is_signature(cut: str) -> bool:
    """Whether the text after a sign-off is short enough to be a signature: a name, a role, an
    address, a phone number. The reply parser cuts from a sign-off ("Thanks,") or a line of dashes to
    the end, so a resident's "Thanks, and one more thing…" would take the rest of the message with it."""
    return len(cut.strip()) <= MAX_SIGNATURE_CHARS and \
        len([line for line in cut.splitlines() if line.strip()]) <= MAX_SIGNATURE_LINES


@cache
def _signoff_line() -> re.Pattern[str]:
    alternatives = "|".join(load_resource("email_disclaimers.yaml")["signoffs"])
    return re.compile(rf"^[ \t]*(?:{alternatives})[ \t]*[,.!]*[ \t]*$", re.IGNORECASE | re.MULTILINE)


def strip_signoff(text: str) -> str:
    """Cut a British sign-off line ("Yours faithfully,") and the short signature after it."""
    for match in reversed(list(_signoff_line().finditer(text))):
        if match.start() == 0 or not text[: match.start()].strip():
            continue  # the sign-off is the whole message: keep it
        if _is_signature(text[match.end():]):
            return text[: match.start()].rstrip()
    return text


@cache
def _any_disclaimer() -> re.Pattern[str]:
    """All the disclaimer patterns as one alternation: its first match is the earliest first match
    of any of them (one scan of the text instead of one per pattern)."""
    raw = load_resource("email_disclaimers.yaml")
    return re.compile("|".join(f"(?:{pattern})" for pattern in raw["starts"]), re.IGNORECASE | re.MULTILINE)


def strip_disclaimer(text: str) -> str:
    """Cut from the first line that opens a known disclaimer to the end of the text."""
    earliest = _any_disclaimer().search(text)
    if earliest is None:
        return text.rstrip()
    if earliest.start() > 0:
        return text[:earliest.start()].rstrip()
    # A pattern matches at the very start: that one is ignored, so ask each pattern on its own.
    return strip_disclaimer_pattern_by_pattern(text)


def strip_disclaimer_pattern_by_pattern(text: str) -> str:
    """`strip_disclaimer` one pattern at a time, a match at the very start ignored: the slow way,
    for the rare text the single alternation cannot answer, and the reference it is tested against."""
    cut = len(text)
    for pattern in _disclaimer_patterns():
        match = pattern.search(text)
        if match and match.start() > 0:
            cut = min(cut, match.start())
    return text[:cut].rstrip()


def split_email(text: str) -> EmailParts:
    message = _read_replies(text)
    if not message.replies:
        return EmailParts(body="", with_signature="", quoted="")
    newest = message.replies[0]
    quoted = "\n\n".join(reply.full_body for reply in message.replies[1:])
    with_signature = _tidy(strip_disclaimer(_QUOTED_LINE.sub("", newest.full_body)))
    without_signature = _tidy(strip_disclaimer(_QUOTED_LINE.sub("", newest.body)))
    # The parser's cut is what the full reply has after the body; more than a signature means the message goes on.
    if with_signature.startswith(without_signature) and not _is_signature(with_signature[len(without_signature):]):
        without_signature = with_signature
    body = _tidy(strip_signoff(without_signature))
    if not body and with_signature:
        # The parser took everything for a signature (e.g. a one-line email that starts "Thanks"):
        # better the whole reply than nothing.
        body = with_signature
    return EmailParts(body=body, with_signature=with_signature, quoted=quoted)


def _tidy(text: str) -> str:
    return _BLANK_RUNS.sub("\n\n", text).strip()
