"""acknowledgements: what the stored wording was rendered for, so it is rendered once

An acknowledgement is rendered when it is planned (inside the item's processing transaction) and
used to be rendered again as it was sent, so that its dates are the case's dates on the day it goes.
`rendered_for` is a digest of everything the wording depended on — the item's type, flags and stage,
its open deadlines, which of those had already passed, the policy — written beside the wording; the
sender recomputes it (no template is rendered for that) and renders again only when it differs.
Null (rows from before this migration, help texts, replies): rendered again as before.

Revision ID: 0013_acks_rendered_for
Revises: 0012_reports_overdue_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_acks_rendered_for"
# The head when this was written; the lead re-chains it if another 0013 lands first.
down_revision = "0012_reports_overdue_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acknowledgements") as batch:
        batch.add_column(sa.Column("rendered_for", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("acknowledgements") as batch:
        batch.drop_column("rendered_for")
