"""report indexes: what the monitoring reports filter and join on

Each report reads one period's rows through one of these, so a quarter's report on a million items
reads a quarter's rows (figures in docs/benchmarks.md, "## Reports"):
- deadlines met in a period (response and acknowledgement times, CH02) — partial: met rows only;
- deadlines outstanding now (overdue) — partial: current, unmet rows only;
- deadlines by (item, kind, stage) — "has this stage" and acknowledgement look-ups per item;
- superseded rows that were met, by (item, kind) — "was this met before?" (a small set);
- acknowledgements by (purpose, created_at) — escalations into a stage in a period (CH01);
- audit entries by (action, at) — complaints that became complaints in a period (CH01) — and by
  (item, action) — an item's extensions, reopenings, change to a complaint, without reading its
  other entries;
- items closed in a period (outcomes) — partial: closed items only;
- complaints (cases) by receipt (CH01, categories) — partial;
- on PostgreSQL, covering versions of the items and deadlines indexes (INCLUDE), so a year's report
  reads index pages rather than the wide item rows.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    met = sa.text("met_at IS NOT NULL")
    outstanding = sa.text("superseded_at IS NULL AND met_at IS NULL")
    superseded_met = sa.text("superseded_at IS NOT NULL AND met_at IS NOT NULL")
    closed = sa.text("closed_at IS NOT NULL")
    complaint_cases = sa.text("type = 'complaint' AND case_id IS NULL")
    # INCLUDE columns (PostgreSQL) let the big scans answer from the index alone; SQLite ignores them.
    op.create_index(
        "ix_deadlines_met_at",
        "deadlines",
        ["met_at"],
        postgresql_where=met,
        sqlite_where=met,
        postgresql_include=["item_id", "kind", "stage", "due_at", "superseded_at"],
    )
    op.create_index(
        "ix_deadlines_outstanding_due_at",
        "deadlines",
        ["due_at"],
        postgresql_where=outstanding,
        sqlite_where=outstanding,
    )
    op.create_index("ix_deadlines_item_kind_stage", "deadlines", ["item_id", "kind", "stage"])
    op.create_index(
        "ix_deadlines_superseded_met",
        "deadlines",
        ["item_id", "kind"],
        postgresql_where=superseded_met,
        sqlite_where=superseded_met,
    )
    op.create_index("ix_acknowledgements_purpose_created_at", "acknowledgements", ["purpose", "created_at"])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    op.create_index("ix_audit_log_item_id_action", "audit_log", ["item_id", "action"])
    op.create_index(
        "ix_items_closed_at",
        "items",
        ["closed_at"],
        postgresql_where=closed,
        sqlite_where=closed,
        postgresql_include=["type", "outcome", "case_id"],
    )
    op.create_index(
        "ix_items_complaints_received_at",
        "items",
        ["received_at"],
        postgresql_where=complaint_cases,
        sqlite_where=complaint_cases,
        postgresql_include=["categories"],
    )
    if op.get_bind().dialect.name == "postgresql":
        # What the reports read from every item they count or join, without touching the wide rows.
        op.create_index(
            "ix_items_received_at_report",
            "items",
            ["received_at"],
            postgresql_include=["type", "channel", "queue", "case_id", "model_version"],
        )
        op.create_index(
            "ix_items_id_report",
            "items",
            ["id"],
            postgresql_include=[
                "type",
                "case_id",
                "received_at",
                "complaint_stage",
                "stage_started_at",
                "queue",
                "case_status",
            ],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_items_id_report", table_name="items")
        op.drop_index("ix_items_received_at_report", table_name="items")
    op.drop_index("ix_items_complaints_received_at", table_name="items")
    op.drop_index("ix_items_closed_at", table_name="items")
    op.drop_index("ix_audit_log_item_id_action", table_name="audit_log")
    op.drop_index("ix_audit_log_action_at", table_name="audit_log")
    op.drop_index("ix_acknowledgements_purpose_created_at", table_name="acknowledgements")
    op.drop_index("ix_deadlines_superseded_met", table_name="deadlines")
    op.drop_index("ix_deadlines_item_kind_stage", table_name="deadlines")
    op.drop_index("ix_deadlines_outstanding_due_at", table_name="deadlines")
    op.drop_index("ix_deadlines_met_at", table_name="deadlines")
