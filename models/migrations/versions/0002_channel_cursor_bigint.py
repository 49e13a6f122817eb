"""channel cursors: UIDVALIDITY and UID as BIGINT

IMAP UIDVALIDITY and UID values are unsigned 32-bit numbers (up to 4,294,967,295); PostgreSQL's
INTEGER stops at 2,147,483,647, so a server with large values would fail to store its cursor.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_cursors") as batch:
        batch.alter_column("validity", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=True)
        batch.alter_column("position", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_cursors") as batch:
        batch.alter_column("position", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
        batch.alter_column("validity", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=True)
