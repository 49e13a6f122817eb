"""`intake poll-email`: read the configured IMAP mailboxes into intake, once or for ever."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("poll-email")(poll_email)


def poll_email(
    forever: Annotated[
        bool, typer.Option("--forever", help="Keep polling (IMAP IDLE between polls where offered)")
    ] = False,
    interval: Annotated[
        int | None, typer.Option(help="Seconds between polls (default INTAKE_IMAP_POLL_INTERVAL_SECONDS)")
    ] = None,
) -> None:
    """Fetch new email from every configured IMAP mailbox into intake."""
    from channels.email_imap import mailboxes_from_settings, poll_all, run_forever
    from channels.errors import ConfigurationError
    from intake.runtime import get_runtime

    runtime = get_runtime()
    try:
        mailboxes = mailboxes_from_settings(runtime.settings.imap)
    except ConfigurationError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    if not mailboxes:
        console.print("[red]error:[/red] no mailbox configured: set INTAKE_IMAP_HOST, _USER and _PASSWORD")
        raise typer.Exit(2)
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
