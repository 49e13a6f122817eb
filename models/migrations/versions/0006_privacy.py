"""residents' data rights: privacy requests, access trail, audit texts; restriction, legal hold, erasure on items

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN (not batch): nullable columns need no table rebuild on SQLite, and rebuilding
    # `items` would fight the foreign keys that point at it.
    op.add_column("items", sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("items", sa.Column("legal_hold", sa.Text(), nullable=True))
    op.add_column("items", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("subject_hint", sa.String(length=120), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("item_ids", JSON, nullable=False),
        sa.Column("contact_ids", JSON, nullable=False),
        sa.Column("outcome", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index(
        op.f("ix_privacy_requests_subject_fingerprint"), "privacy_requests", ["subject_fingerprint"], unique=False
    )

    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_access_log_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index(op.f("ix_access_log_at"), "access_log", ["at"], unique=False)
    op.create_index("ix_access_log_item_at", "access_log", ["item_id", "at"], unique=False)

    op.create_table(
        "audit_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_audit_texts_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_texts")),
    )
    op.create_index(op.f("ix_audit_texts_item_id"), "audit_texts", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_texts")
    op.drop_table("access_log")
    op.drop_table("privacy_requests")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("legal_hold")
        batch.drop_column("restricted_at")
