"""`intake poll-email` (read every configured mailbox, once or for ever) and `intake email check`
(sign in to every mailbox and the SMTP server, read nothing, name what is wrong)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)
email_app = typer.Typer(help="Email mailboxes and sending: check the connections.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("poll-email")(poll_email)
    app.add_typer(email_app, name="email")


def poll_email(
    forever: Annotated[
        bool, typer.Option("--forever", help="Keep polling (IMAP IDLE between polls where offered)")
    ] = False,
    interval: Annotated[
        int | None, typer.Option(help="Seconds between polls (default INTAKE_IMAP_POLL_INTERVAL_SECONDS)")
    ] = None,
) -> None:
    """Fetch new email from every configured IMAP mailbox into intake."""
    from intake.email_mailboxes import poll_all, run_forever
    from intake.runtime import get_runtime

    runtime = get_runtime()
    mailboxes = _mailboxes_or_exit(runtime)
    if forever:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        seconds = interval or runtime.settings.imap.poll_interval_seconds
        console.print(f"polling {len(mailboxes)} mailbox(es) every {seconds}s until stopped (Ctrl-C)")
        try:
            run_forever(runtime, interval=seconds, stop=stop)
        except KeyboardInterrupt:
            stop.set()
        return
    reports = poll_all(runtime)
    for report in reports:
        typer.echo(report.summary())
    if any(report.error for report in reports):
        raise typer.Exit(1)


@email_app.command("check")
def check() -> None:
    """Sign in to every mailbox and to the SMTP server; read, mark and send nothing.

    Prints one line per connection: `ok` with the folder's message counts, or the named problem
    (wrong-secret, consent-not-granted, no-mailbox-access, token-endpoint-unreachable, …) and what
    to do about it. Exit status 1 when any connection failed."""
    from channels.email_imap import MailboxPoller, describe_error
    from channels.email_smtp import SmtpSender
    from intake.email_mailboxes import DatabaseMailboxStore
    from intake.runtime import get_runtime

    runtime = get_runtime()
    mailboxes = _mailboxes_or_exit(runtime)
    failed = False
    for mailbox in mailboxes:
        poller = MailboxPoller(mailbox, DatabaseMailboxStore(runtime))
        try:
            counts = poller.check()
            typer.echo(
                f"IMAP {mailbox.key} ({mailbox.auth}): ok, {counts['messages']} messages, {counts['unseen']} unseen"
            )
        except Exception as error:
            failed = True
            typer.echo(f"IMAP {mailbox.key} ({mailbox.auth}): failed: {describe_error(error)[1]}")
        finally:
            poller.close()
    settings = runtime.settings
    if not settings.smtp.host:
        typer.echo("SMTP: not configured (acknowledgements are written to the outbox folder)")
    else:
        where = f"SMTP {settings.smtp.host}:{settings.smtp.port} ({settings.email.smtp_auth})"
        try:
            SmtpSender.from_settings(settings).check()
            typer.echo(f"{where}: ok")
        except Exception as error:
            failed = True
            typer.echo(f"{where}: failed: {describe_error(error)[1]}")
    if failed:
        raise typer.Exit(1)


def _mailboxes_or_exit(runtime: object) -> list:  # type: ignore[type-arg]
    from intake.email_mailboxes import mailboxes_from_settings
    from intake.errors import ConfigurationError

    try:
        mailboxes = mailboxes_from_settings(runtime.settings)  # type: ignore[attr-defined]
    except ConfigurationError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    if not mailboxes:
        console.print(
            "[red]error:[/red] no mailbox configured: set INTAKE_IMAP_HOST, _USER and _PASSWORD "
            "(or INTAKE_EMAIL_MAILBOXES; docs/channels/email.md)"
        )
        raise typer.Exit(2)
    return mailboxes
