"""reports: indexes for "overdue now" (the report, the board report's headline, the queue's sidebar)

Overdue now is not a period report: it reads the live deadlines, so the daily facts cannot answer
it. On 1,000,000 items (docs/benchmarks.md, "## Reports") its two queries read ~100,000 pages:
every current unmet deadline past due (23,588 rows, mostly of closed cases) was checked against
its item one random look-up at a time, and the sidebar's case count walked every item's row in
the id index to find the ~35,000 open cases. With these, both are index-only:
- open case roots (`case_id IS NULL AND case_status = 'open'`) — partial, with the queue, so
  "is this case open, and in which queue" is a hash of a small index instead of a million rows;
- the outstanding deadlines (current, unmet) by due date, now covering the item, kind, stage and
  id the report groups and joins on (replaces ix_deadlines_outstanding_due_at, same rows);
- the superseded met rows by (item, kind), now covering the stage, met_at and id that "was this
  already met?" compares (replaces ix_deadlines_superseded_met, same rows).
PostgreSQL carries the extra columns as INCLUDE; SQLite as trailing key columns (its indexes
always carry the rowid, which is `id`).

Revision ID: 0012_reports_overdue_indexes
Revises: 0011_reports_daily_facts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_reports_overdue_indexes"
# The head when this was written; the lead re-chains it if another 0012 lands first.
down_revision = "0011_reports_daily_facts"
branch_labels = None
depends_on = None

OPEN_CASES = sa.text("case_id IS NULL AND case_status = 'open'")
OUTSTANDING = sa.text("superseded_at IS NULL AND met_at IS NULL")
SUPERSEDED_MET = sa.text("superseded_at IS NOT NULL AND met_at IS NOT NULL")


def _covering(name: str, table: str, keys: list[str], extra: list[str], where: sa.TextClause) -> None:
    """An index that answers its queries without the table's rows, on either database."""
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(name, table, keys, postgresql_where=where, postgresql_include=extra)
    else:
        op.create_index(name, table, keys + extra, sqlite_where=where)


def upgrade() -> None:
    _covering("ix_items_open_cases", "items", ["id"], ["queue"], OPEN_CASES)
    op.drop_index("ix_deadlines_outstanding_due_at", table_name="deadlines")
    _covering(
        "ix_deadlines_outstanding_due_at",
        "deadlines",
        ["due_at"],
        ["item_id", "kind", "stage", "id"],
        OUTSTANDING,
    )
    op.drop_index("ix_deadlines_superseded_met", table_name="deadlines")
    _covering(
        "ix_deadlines_superseded_met",
        "deadlines",
        ["item_id", "kind"],
        ["stage", "met_at", "id"],
        SUPERSEDED_MET,
    )


def downgrade() -> None:
    op.drop_index("ix_deadlines_superseded_met", table_name="deadlines")
    op.create_index(
        "ix_deadlines_superseded_met",
        "deadlines",
        ["item_id", "kind"],
        postgresql_where=SUPERSEDED_MET,
        sqlite_where=SUPERSEDED_MET,
    )
    op.drop_index("ix_deadlines_outstanding_due_at", table_name="deadlines")
    op.create_index(
        "ix_deadlines_outstanding_due_at",
        "deadlines",
        ["due_at"],
        postgresql_where=OUTSTANDING,
        sqlite_where=OUTSTANDING,
    )
    op.drop_index("ix_items_open_cases", table_name="items")
