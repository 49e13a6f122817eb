"""channel_cursors: each mailbox's last poll, last error and messages waiting

The staff Settings page and /healthz show every mailbox's state, whichever process polls it; the
poller writes it beside the mailbox's cursor after each poll.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_cursors") as batch:
        batch.add_column(sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_error_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("waiting", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_cursors") as batch:
        for column in ("waiting", "last_error_code", "last_error", "last_success_at", "last_polled_at"):
            batch.drop_column(column)
