"""Text out of MIME parts: any charset, mislabelled or unknown; format=flowed; HTML made readable.

Mail in the wild lies about its charset: "iso-8859-1" that is really Windows-1252 (Outlook's curly
quotes and €), "us-ascii" with UTF-8 in it, "gb2312" using GBK characters, names Python does not
know ("x-unknown", "ks_c_5601-1987"). Decoding tries the declared charset (through the aliases
browsers use, WHATWG), then UTF-8, then Windows-1252 — which accepts any byte — so a body is always
readable, never an exception.
"""

from __future__ import annotations

import codecs
import re

from inscriptis import get_text
from inscriptis.model.config import ParserConfig

# What mail actually means by these labels (after the WHATWG Encoding Standard's label table).
CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "x-user-defined": "cp1252",
}
# Labels that mean "a single-byte Western charset" but often carry UTF-8: try UTF-8 first.
UTF8_FIRST = {
    "",
    "us-ascii",
    "ascii",
    "iso-8859-1",
    "iso8859-1",
    "latin1",
    "latin-1",
    "windows-1252",
    "cp1252",
}
UNKNOWN_CHARSETS = {"", "unknown-8bit", "x-unknown", "unknown", "default", "8bit", "none", "charset"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_CALENDAR_FIELDS = ("SUMMARY", "DTSTART", "LOCATION", "DESCRIPTION")
_HTML_CONFIG = ParserConfig(display_links=False, display_images=False)


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when it is unknown or not given."""
    label = (charset or "").strip().strip("\"'").lower()
    if label in UNKNOWN_CHARSETS:
        return None
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """(text, problem): the text is always there; `problem` says when it needed a guess."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace"), None
    label = (charset or "").strip().strip("\"'").lower()
    codec = codec_for(charset)
    if label in UTF8_FIRST and not data.isascii() and _is_utf8(data):
        return data.decode("utf-8"), f"text declared {label} is UTF-8" if label else None
    if codec is not None:
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            pass
    if _is_utf8(data):
        problem = f"text declared {label} is UTF-8" if codec is not None else None
        return data.decode("utf-8"), problem
    fallback = codec or "cp1252"
    described = label or "no charset"
    return data.decode(
        fallback, "replace"
    ), f"text is not valid {described}; decoded as {fallback} with replacements"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def html_charset(data: bytes) -> str | None:
    """The charset an HTML document names in its own <meta> tag."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676): a line ending in a space continues."""
    out: list[str] = []
    paragraph: tuple[int, str] | None = None  # (quote depth, text so far)
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):  # space-stuffing
            content = content[1:]
        flowed = content.endswith(" ") and content != "-- "  # a signature separator never flows
        if paragraph is not None and paragraph[0] != depth:
            out.append(_quoted(*paragraph))
            paragraph = None
        piece = content[:-1] if flowed and delsp else content
        paragraph = (depth, piece) if paragraph is None else (depth, paragraph[1] + piece)
        if not flowed:
            out.append(_quoted(*paragraph))
            paragraph = None
    if paragraph is not None:
        out.append(_quoted(*paragraph))
    return "\n".join(out)


def _quoted(depth: int, text: str) -> str:
    return (">" * depth + " " + text) if depth and text else (">" * depth + text)


def calendar_text(data: bytes) -> str:
    """A readable line or two from an iCalendar invitation (summary, time, place, description)."""
    text, _ = decode_bytes(data, "utf-8")
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    fields: dict[str, str] = {}
    for line in unfolded.splitlines():
        name, _, value = line.partition(":")
        key = name.split(";", 1)[0].strip().upper()
        if key in _CALENDAR_FIELDS and key not in fields:
            fields[key] = (
                value.replace("\\n", "\n")
                .replace("\\N", "\n")
                .replace("\\,", ",")
                .replace("\\;", ";")
                .strip()
            )
    lines = [f"Calendar invitation: {fields.get('SUMMARY', '(no title)')}"]
    if "DTSTART" in fields:
        lines.append(f"When: {fields['DTSTART']}")
    if "LOCATION" in fields:
        lines.append(f"Where: {fields['LOCATION']}")
    if "DESCRIPTION" in fields:
        lines += ["", fields["DESCRIPTION"]]
    return "\n".join(lines)


def html_to_text(html: str) -> str:
    """Readable text: block elements become lines, tables rows, entities decoded, scripts dropped."""
    text = get_text(html, _HTML_CONFIG) if html.strip() else ""
    # inscriptis indents nested blocks; the indentation carries no meaning for a reader of the item.
    return tidy("\n".join(line.strip() for line in text.splitlines()))


def tidy(text: str) -> str:
    """Unix line ends, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip()
