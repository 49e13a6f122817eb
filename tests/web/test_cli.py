"""`intake users add`: the first admin, from the command line."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from intake.cli import app
from intake.runtime import Runtime
from models import User


def test_the_first_admin_is_added_with_a_password_from_standard_input(runtime: Runtime) -> None:
    result = CliRunner().invoke(app, ["users", "add", "Ada", "--role", "admin", "--password-stdin"],
                                input="a long admin password\n")
    assert result.exit_code == 0, result.output
    with runtime.database.session() as session:
        user = session.scalars(select(User)).one()
        assert (user.username, user.role) == ("ada", "admin")
        assert user.password_hash.startswith("$argon2")


def test_a_bad_role_is_refused(runtime: Runtime) -> None:
    result = CliRunner().invoke(app, ["users", "add", "ada", "--role", "god", "--password-stdin"],
                                input="a long admin password\n")
    assert result.exit_code == 2
    with runtime.database.session() as session:
        assert session.scalars(select(User)).first() is None
