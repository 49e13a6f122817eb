"""acknowledgements: an index on (recipient, created_at) for the daily limit a recipient is sent

Before an acknowledgement is planned, the worker counts what each of a batch's recipients was sent in
the last 24 hours (intake/acknowledgements.py `_RecipientStates.load`). With nothing indexing the
recipient, PostgreSQL read every acknowledgement to find the batch's 32 numbers: 3.8 ms a batch after
6,000 of them (EXPLAIN ANALYZE, the bench's database), and growing with the table all day.

Revision ID: 0014_acks_recipient_index
Revises: 0013_acks_rendered_for
"""

from __future__ import annotations

from alembic import op

revision = "0014_acks_recipient_index"
down_revision = "0013_acks_rendered_for"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_acknowledgements_recipient_created_at", "acknowledgements", ["recipient", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_acknowledgements_recipient_created_at", table_name="acknowledgements")
