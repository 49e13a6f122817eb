"""What the request path's group writers share, whatever the database: the look's answer, the rows
a group stores, and a column's default as SQLAlchemy's INSERT would give it.

`pipeline` decides the rows (`GroupRows`) from a `Look`; `ingest_postgres` and `ingest_sqlite` only
read and write them, each in as few statements as its database allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnDefault

Key = tuple[str, str]  # (channel, external id)


@dataclass(frozen=True)
class Look:
    stored_before: dict[Key, tuple[int, str | None, str]]  # key -> (item id, reference, status)
    contacts: list[dict[str, object]]  # id, email, phone, name, role
    head: tuple[int | None, str | None]  # the newest audit entry: id, chain hash
    item_ids: list[int]
    contact_ids: list[int]
    entry_ids: list[int]  # ascending, all higher than the head's


@dataclass(frozen=True)
class GroupRows:
    """Every row a group stores, each with its id where the table has one to give."""

    contacts: list[dict[str, Any]]
    contact_changes: Mapping[int, Mapping[str, object]]  # id -> name, phone, role
    items: list[dict[str, Any]]
    raw_messages: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    audit_entries: list[dict[str, Any]]
    marked_item_ids: list[int]


# The item's columns the request path gives (pipeline._new_item_values), with its id.
ITEM_COLUMNS = (
    "id",
    "channel",
    "external_id",
    "received_at",
    "subject",
    "body",
    "sender_address",
    "sender_name",
    "contact_id",
    "headers",
    "thread_keys",
    "details",
    "mailbox_hint",
    "parse_error",
    "suppress_acknowledgement_reason",
    "status",
    "case_status",
)


# The columns a group gives the other tables (every other column takes its default).
CONTACT_COLUMNS = ("id", "email", "phone", "name", "role")
RAW_MESSAGE_COLUMNS = ("item_id", "channel", "content_type", "content", "sha256")
ATTACHMENT_COLUMNS = ("item_id", "filename", "content_type", "size", "sha256", "content")
AUDIT_ENTRY_COLUMNS = ("id", "at", "actor", "action", "item_id", "details", "previous_id", "chain_hash")
MARK_COLUMNS = ("item_id", "day")


def column_default(column: Column[Any], context: object) -> Any:
    """`column`'s Python-side default, as SQLAlchemy's INSERT computes it (`context` carries the
    connection's execution options: models/base.py `utcnow` reads the clock there)."""
    default = column.default
    if not isinstance(default, ColumnDefault):  # a sequence or another generator: not on these tables
        raise TypeError(f"{column} has a default the request path cannot give: {default!r}")
    return default.arg(context) if default.is_callable else default.arg
