"""job_queue: the embedded mode's database-backed job queue

Without Redis, `intake serve` starts a worker process beside the web server; the request path
stores the item and queues its processing as a row here in the same transaction, and the worker
claims rows in batches (models/tables.py: QueuedJob, intake/database_queue.py).

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "job_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("function", sa.String(200), nullable=False),
        sa.Column("args", json_type, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(200), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_queue")),
        sa.UniqueConstraint("key", name=op.f("uq_job_queue_key")),
    )
    op.create_index("ix_job_queue_ready", "job_queue", ["status", "priority", "run_after"])


def downgrade() -> None:
    op.drop_index("ix_job_queue_ready", table_name="job_queue")
    op.drop_table("job_queue")
