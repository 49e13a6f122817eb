"""What the request path's group writers share, whatever the database: the look's answer, the rows
a group stores, and a column's default as SQLAlchemy's INSERT would give it.

`pipeline` decides the rows (`GroupRows`) from a `Look`; `ingest_postgres` and `ingest_sqlite` only
read and write them (`GROUP_TABLES`), each in as few statements as its database allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, ColumnDefault, Table

from models import Attachment, AuditEntry, Contact, Item, RawMessage
from models.report_facts import ReportFactMark

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

    def by_table(self) -> list[list[dict[str, Any]]]:
        """The new rows of each of `GROUP_TABLES`, in its order."""
        marks = [{"item_id": item_id, "day": None} for item_id in self.marked_item_ids]
        return [self.contacts, self.items, self.raw_messages, self.attachments, self.audit_entries, marks]


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


# The tables a group writes, in the order it writes them (a row's foreign keys point only at rows
# before it), each with the columns a group gives it: every other column takes its default.
GROUP_TABLES: tuple[tuple[Table, tuple[str, ...]], ...] = tuple(
    (cast(Table, model.__table__), columns)
    for model, columns in (
        (Contact, ("id", "email", "phone", "name", "role")),
        (Item, ITEM_COLUMNS),
        (RawMessage, ("item_id", "channel", "content_type", "content", "sha256")),
        (Attachment, ("item_id", "filename", "content_type", "size", "sha256", "content")),
        (AuditEntry, ("id", "at", "actor", "action", "item_id", "details", "previous_id", "chain_hash")),
        (ReportFactMark, ("item_id", "day")),
    )
)


def column_default(column: Column[Any], context: object) -> Any:
    """`column`'s Python-side default, as SQLAlchemy's INSERT computes it (`context` carries the
    connection's execution options: models/base.py `utcnow` reads the clock there)."""
    default = column.default
    if not isinstance(default, ColumnDefault):  # a sequence or another generator: not on these tables
        raise TypeError(f"{column} has a default the request path cannot give: {default!r}")
    return default.arg(context) if default.is_callable else default.arg
