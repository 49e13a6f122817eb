"""Staff users: argon2 hashes, sign-in, lock-out after five failures for fifteen minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from intake.errors import InvalidMessage
from intake.runtime import Runtime
from intake.users import SignInRefused, create_user, sign_in
from models import AuditEntry, User

PASSWORD = "a long enough password"


def test_passwords_are_stored_as_argon2_hashes(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        user = create_user(session, username="Tina", password=PASSWORD, role="triage", actor="test")
        assert user.username == "tina"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("tina", "short", "triage", "at least 12 characters"),
        ("tina", PASSWORD, "superuser", "role must be one of"),
        ("<script>", PASSWORD, "triage", "a username is"),
    ],
)
def test_bad_users_are_refused(runtime: Runtime, username: str, password: str, role: str, message: str) -> None:
    with runtime.database.session() as session, pytest.raises(InvalidMessage, match=message):
        create_user(session, username=username, password=password, role=role, actor="test")


def test_a_username_is_taken_once(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        create_user(session, username="tina", password=PASSWORD, role="triage", actor="test")
        with pytest.raises(InvalidMessage, match="already a user"):
            create_user(session, username="TINA", password=PASSWORD, role="admin", actor="test")


def test_the_lock_lasts_fifteen_minutes(runtime: Runtime) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with runtime.database.session() as session:
        create_user(session, username="tina", password=PASSWORD, role="triage", actor="test")
    for attempt in range(5):
        with runtime.database.session() as session, pytest.raises(SignInRefused):
            sign_in(session, username="tina", password="wrong", now=start + timedelta(seconds=attempt))
    with runtime.database.session() as session, pytest.raises(SignInRefused, match="locked"):
        sign_in(session, username="tina", password=PASSWORD, now=start + timedelta(minutes=14))
    with runtime.database.session() as session:
        assert sign_in(session, username="tina", password=PASSWORD, now=start + timedelta(minutes=16)).username == "tina"
    with runtime.database.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions.count("sign_in_failed") == 5 and "account_locked" in actions and "signed_in" in actions
        assert session.scalars(select(User)).one().failed_logins == 0


def test_a_deactivated_user_cannot_sign_in(runtime: Runtime) -> None:
    with runtime.database.session() as session:
        user = create_user(session, username="tina", password=PASSWORD, role="triage", actor="test")
        user.active = False
    with runtime.database.session() as session, pytest.raises(SignInRefused):
        sign_in(session, username="tina", password=PASSWORD)
