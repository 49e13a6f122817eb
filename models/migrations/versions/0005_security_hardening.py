"""security: server-side staff sessions, API token scopes, an audit log that cannot be replaced or truncated

- `staff_sessions`: one row per sign-in, found by a hash of the cookie's random token, so signing
  out, a password change, deactivation or an admin's "sign out everywhere" ends a session at once.
- `api_tokens.scopes`: what a token may do (`items:write` by default; `items:read` only when granted).
- `audit_log`: a hash chain (`previous_id`, `chain_hash`; intake/audit.py); SQLite's `INSERT OR REPLACE` deletes the old row without firing DELETE triggers, so an
  insert over an existing id is refused; PostgreSQL's TRUNCATE fires no row trigger, so a statement
  trigger refuses it (and docs/security.md says to revoke TRUNCATE from the application role).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_staff_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions") as batch:
        batch.create_index(batch.f("ix_staff_sessions_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("scopes", sa.String(length=200), nullable=False, server_default="items:write")
        )

    # Adding nullable columns alters no existing row, so the UPDATE trigger is not in the way.
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
            "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("chain_hash")
        batch.drop_column("previous_id")
    if op.get_bind().dialect.name == "sqlite":
        # Dropping columns rebuilds the SQLite table, and its triggers with it: put 0001's back.
        for event in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{event.lower()}")
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scopes")
    with op.batch_alter_table("staff_sessions") as batch:
        batch.drop_index(batch.f("ix_staff_sessions_user_id"))
    op.drop_table("staff_sessions")
