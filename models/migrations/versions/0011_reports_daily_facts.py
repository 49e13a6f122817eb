"""reports: pre-aggregated daily facts and the marks that keep them up to date

Revision ID: 0011_reports_daily_facts
Revises: 0011_workspace_search

The facts start empty with one "rebuild every day" mark: the worker's sweep (or the next report
read, whichever comes first) computes them from the tables. models/report_facts.py says what they
hold; intake/reports/daily_facts.py computes and reads them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_reports_daily_facts"
down_revision = "0011_workspace_search"  # main's head when this branch merged it (was 0010)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_daily_facts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("measure", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label_1", sa.Text(), nullable=True),
        sa.Column("label_2", sa.Text(), nullable=True),
        sa.Column("label_3", sa.Text(), nullable=True),
        sa.Column("day_1", sa.Date(), nullable=True),
        sa.Column("day_2", sa.Date(), nullable=True),
        sa.Column("count_1", sa.Integer(), nullable=False),
        sa.Column("count_2", sa.Integer(), nullable=False),
        sa.Column("count_3", sa.Integer(), nullable=False),
    )
    op.create_index("ix_report_daily_facts_measure_day", "report_daily_facts", ["measure", "day"])
    marks = op.create_table(
        "report_fact_marks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
    )
    op.bulk_insert(marks, [{"item_id": None, "day": None}])


def downgrade() -> None:
    op.drop_table("report_fact_marks")
    op.drop_index("ix_report_daily_facts_measure_day", table_name="report_daily_facts")
    op.drop_table("report_daily_facts")
