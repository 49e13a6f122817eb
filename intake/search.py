"""Search the workspace's cases: every word of every message (follow-ups too), phone numbers however
they are typed, and references however they are shortened.

One search box, three readings of what was typed, tried in this order:

1. a **reference**, full (`REF-2026-000472`) or short (`cmp-2026-472`, `REF2026472`): its case;
2. a **UK phone number** in any common form (`07911 123456`, `+447911123456`, `447911123456`),
   parsed with `phonenumbers`: every case from that number (the sender, or the contact on file);
3. **words**: full-text search over reference, sender, subject and message of every item, through
   the index migration 0011 keeps current (SQLite FTS5 in the embedded default, a PostgreSQL
   `tsvector` GIN index otherwise). A follow-up's words find its case.

The full-text condition is a small SQL construct compiled per database (`TextMatch`), so the queue
code stays one query for both backends.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from sqlalchemy import Boolean, bindparam, false, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement

from intake.references import parse_reference
from models import Contact, Item

# What the index covers (models/migrations/versions/0011_workspace_search.py builds it from the same list).
SEARCHED_COLUMNS = ("reference", "sender_name", "sender_address", "subject", "body")
POSTGRES_DOCUMENT = (
    "to_tsvector('english'::regconfig, "
    + " || ' ' || ".join(f"coalesce({{table}}.{column}, '')" for column in SEARCHED_COLUMNS)
    + ")"
)
MAX_WORDS = 12  # a pasted paragraph is not a search; the first words are enough to find it

# CMP-2026-472, cmp 2026 472, REF2026000472: a prefix references have carried (intake/references.py),
# the year, the item number without its leading zeros. Only those prefixes, so "May 2026 12" stays words.
SHORT_REFERENCE = re.compile(r"(REF|CMP|SRQ|ENQ|CPL|SUG|ITM)[\s\-/]*(\d{4})[\s\-/]*(\d{1,9})", re.IGNORECASE)
WORD = re.compile(r"[^\W_]+")  # letters and digits; quotes, operators and punctuation never reach a query


def reference_item_id(term: str) -> int | None:
    """The item number a full or shortened reference names, or None when `term` is not one."""
    parsed = parse_reference(term)
    if parsed is not None:
        return parsed[1]
    match = SHORT_REFERENCE.fullmatch(term.strip())
    if match is None:
        return None
    return int(match.group(3))


def phone_forms(term: str) -> list[str]:
    """The forms a UK number is stored in (E.164 first, then national digits), or [] when `term`
    is not a phone number. '07911 123456', '+44 7911 123456' and '447911123456' are one number."""
    if sum(ch.isdigit() for ch in term) < 7 or any(ch.isalpha() for ch in term):
        return []
    digits = "".join(ch for ch in term if ch.isdigit() or ch == "+")
    if digits.startswith("44") and len(digits) >= 12:  # typed without the "+": 447911123456
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, "GB")
    except phonenumbers.NumberParseException:
        return []
    if not phonenumbers.is_possible_number(number):
        return []
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")
    return list(dict.fromkeys([e164, national]))


def words_of(term: str) -> list[str]:
    return WORD.findall(term.lower())[:MAX_WORDS]


class TextMatch(ColumnElement[bool]):
    """`id_column` is an item whose words contain every word searched for (each as a prefix)."""

    type = Boolean()
    inherit_cache = False  # the query text depends on the words: never reuse a compiled form

    def __init__(self, id_column: Any, words: list[str]) -> None:
        self.id_column = id_column
        self.words = words


@compiles(TextMatch, "sqlite")
def _sqlite_match(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    # FTS5 query syntax: each word quoted (no operator can be smuggled in), * for a prefix, space = AND.
    query = " ".join(f'"{word}"*' for word in element.words)
    column = compiler.process(element.id_column, **kw)
    value = compiler.process(bindparam("fts_query", query, unique=True), **kw)
    return f"{column} IN (SELECT rowid FROM items_fts WHERE items_fts MATCH {value})"


@compiles(TextMatch, "postgresql")
def _postgres_match(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    # to_tsquery with ':*' for a prefix and '&' between words; the document expression is the one the
    # GIN index was built on, so the planner uses the index.
    query = " & ".join(f"{word}:*" for word in element.words)
    column = compiler.process(element.id_column, **kw)
    value = compiler.process(bindparam("ts_query", query, unique=True), **kw)
    document = POSTGRES_DOCUMENT.format(table="searched")
    return (
        f"{column} IN (SELECT searched.id FROM items AS searched "
        f"WHERE {document} @@ to_tsquery('english'::regconfig, {value}))"
    )


@compiles(TextMatch)
def _no_index(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(f"no full-text search for the {compiler.dialect.name} database")


def search_condition(term: str) -> ColumnElement[bool]:
    """The case roots (and items) `term` finds, as a WHERE condition on `Item`."""
    item_id = reference_item_id(term)
    if item_id is not None:
        return or_(Item.id == item_id, Item.id == select(Item.case_id).where(Item.id == item_id).scalar_subquery())
    phones = phone_forms(term)
    if phones:
        on_file = select(Contact.id).where(Contact.phone.in_(phones))
        return or_(Item.sender_address.in_(phones), Item.contact_id.in_(on_file))
    words = words_of(term)
    if not words:
        return false()
    follow_up = aliased(Item)
    # A case is found by the words of any of its messages: a follow-up often names the resident.
    found_by_follow_up = select(follow_up.case_id).where(
        follow_up.case_id.is_not(None), TextMatch(follow_up.id, words)
    )
    # The sender's address and name are also matched as typed: PostgreSQL's parser keeps an email
    # address as one token, so "tom@example.com" is not its three words there.
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(
        TextMatch(Item.id, words),
        Item.id.in_(found_by_follow_up),
        Item.sender_address.ilike(pattern, escape="\\"),
        Item.sender_name.ilike(pattern, escape="\\"),
    )
