"""Finding 9: common and trivial passwords are refused, however long."""

from __future__ import annotations

import pytest

from intake.errors import InvalidMessage
from intake.runtime import Runtime
from intake.users import check_password_rules, create_user


@pytest.mark.parametrize(
    "password", [" " * 12, "password1234", "qwertyuiop123", "123456789012", "aaaaaaaaaaaa", "Password2026!"]
)
def test_easily_guessed_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidMessage, match="too easy to guess"):
        check_password_rules(password)


def test_a_password_made_of_the_username_is_refused(runtime: Runtime) -> None:
    with pytest.raises(InvalidMessage, match="too easy to guess"), runtime.database.session() as session:
        create_user(session, username="margaret.thatcher", full_name="Margaret Thatcher",
                    password="margaretthatcher1", role="triage", actor="test")


@pytest.mark.parametrize("password", ["correct horse battery staple", "violet kettle orbit anchor", "t7#Vq!9zL2@pW"])
def test_hard_to_guess_passwords_are_accepted(password: str) -> None:
    check_password_rules(password)
