"""`intake users …`: create the first admin (and more users) from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from intake.errors import SERVICE_ERRORS

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(help="Staff users of the workspace.", no_args_is_help=True)
    app.add_typer(users_app, name="users")

    @users_app.command("add")
    def add(
        username: str,
        role: Annotated[str, typer.Option(help="triage, manager or admin")] = "triage",
        full_name: Annotated[str | None, typer.Option(help="The person's name, shown to other staff")] = None,
        email: Annotated[str | None, typer.Option(help="Work email: single sign-on (OpenID Connect) finds the account by it")] = None,
        password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
    ) -> None:
        """Add a staff user (e.g. the first admin: `intake users add alice --role admin`)."""
        from intake.runtime import get_runtime
        from intake.users import create_user

        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            with get_runtime().database.session() as session:
                create_user(
                    session, username=username, password=password, role=role, full_name=full_name, email=email,
                    actor="cli",
                )
        except SERVICE_ERRORS as error:
            console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(2) from None
        console.print(f"added {username.strip().lower()} ({role}); sign in at /staff/login")

    @users_app.command("list")
    def list_command() -> None:
        """Users with their role and whether they are active or locked."""
        from intake.runtime import get_runtime
        from intake.users import list_users

        with get_runtime().database.session() as session:
            for user in list_users(session):
                state = "active" if user.active else "deactivated"
                if user.locked_until is not None:
                    state += f", locked until {user.locked_until:%Y-%m-%d %H:%M}Z"
                typer.echo(f"{user.username:<24} {user.role:<8} {state}")
