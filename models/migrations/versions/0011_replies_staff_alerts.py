"""replies from the workspace, reply templates, staff alert settings and staff alert emails

Revision ID: 0011_replies_staff_alerts
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_replies_staff_alerts"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("acknowledgement_id", sa.Integer(), sa.ForeignKey("acknowledgements.id"), nullable=True),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("template_key", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("in_reply_to", sa.String(998), nullable=True),
        sa.Column("references", JSON, nullable=False),
        sa.Column("stage_response", sa.Boolean(), nullable=False),
        sa.Column("response_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_note", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_replies_key"),
        sa.UniqueConstraint("acknowledgement_id", name="uq_replies_acknowledgement_id"),
    )
    op.create_index("ix_replies_item_id", "replies", ["item_id"])
    op.create_table(
        "reply_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_reply_templates_key"),
    )
    op.create_table(
        "staff_alert_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(120), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("urgent_arrivals", sa.Boolean(), nullable=False),
        sa.Column("deadlines", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("username", name="uq_staff_alert_settings_username"),
    )
    op.create_table(
        "staff_alert_emails",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("username", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(320), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sending_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("key", name="uq_staff_alert_emails_key"),
    )
    op.create_index("ix_staff_alert_emails_username", "staff_alert_emails", ["username"])
    op.create_index("ix_staff_alert_emails_item_id", "staff_alert_emails", ["item_id"])
    op.create_index("ix_staff_alert_emails_status", "staff_alert_emails", ["status"])


def downgrade() -> None:
    op.drop_table("staff_alert_emails")
    op.drop_table("staff_alert_settings")
    op.drop_table("reply_templates")
    op.drop_table("replies")
