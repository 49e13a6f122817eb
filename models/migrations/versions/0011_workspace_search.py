"""workspace search: a full-text index over every item's words, kept current by the database itself

SQLite (the embedded default): an FTS5 table over `items` (external content, so the text is not
stored twice) with triggers that index an item when it is stored, changed (a correction, an erasure
that replaces the words with a marker) or deleted. PostgreSQL: a GIN index on the same words as a
`tsvector` expression; `intake/search.py` queries with the identical expression so the index is used.
Either way no application code has to remember to update the index, so a follow-up stored by any
path (a worker, an import, a migration) is found.

Also `users.email`: the address an OpenID Connect sign-in is matched by (intake/web/oidc.py), unique.

Revision ID: 0011_workspace_search
Revises: 0011_replies_staff_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_workspace_search"
down_revision = "0011_replies_staff_alerts"  # main's head when this branch merged it (was 0010)
branch_labels = None
depends_on = None

# The words a search looks at (intake/search.py: SEARCHED_COLUMNS and POSTGRES_DOCUMENT must match).
COLUMNS = ("reference", "sender_name", "sender_address", "subject", "body")
POSTGRES_DOCUMENT = (
    "to_tsvector('english'::regconfig, "
    + " || ' ' || ".join(f"coalesce({column}, '')" for column in COLUMNS)
    + ")"
)


def _sqlite_values(prefix: str) -> str:
    return ", ".join(f"{prefix}.{column}" for column in COLUMNS)


def upgrade() -> None:
    # ADD COLUMN and a unique index: no table rebuild on SQLite (sessions and notes point at users).
    op.add_column("users", sa.Column("email", sa.String(320), nullable=True))
    op.create_index("ix_users_email", "users", ["email"], unique=True)
    dialect = op.get_bind().dialect.name
    columns = ", ".join(COLUMNS)
    if dialect == "sqlite":
        # porter: "leaking" finds "leak"; remove_diacritics: "Zoë" finds "Zoe".
        op.execute(
            f"CREATE VIRTUAL TABLE items_fts USING fts5({columns}, content='items', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN "
            f"INSERT INTO items_fts(rowid, {columns}) VALUES (new.id, {_sqlite_values('new')}); END"
        )
        op.execute(
            f"CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN "
            f"INSERT INTO items_fts(items_fts, rowid, {columns}) VALUES ('delete', old.id, {_sqlite_values('old')}); END"
        )
        # Only when the searched words change: status and deadline updates leave the index alone.
        op.execute(
            f"CREATE TRIGGER items_fts_update AFTER UPDATE OF {columns} ON items BEGIN "
            f"INSERT INTO items_fts(items_fts, rowid, {columns}) VALUES ('delete', old.id, {_sqlite_values('old')}); "
            f"INSERT INTO items_fts(rowid, {columns}) VALUES (new.id, {_sqlite_values('new')}); END"
        )
        op.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")  # the items stored before now
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_items_search ON items USING gin ({POSTGRES_DOCUMENT})")


def downgrade() -> None:
    op.drop_index("ix_users_email", table_name="users")
    with op.batch_alter_table("users") as users:
        users.drop_column("email")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("items_fts_insert", "items_fts_delete", "items_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS items_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_items_search")
