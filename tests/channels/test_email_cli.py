"""`intake poll-email`: the command an operator (or cron) runs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from intake.cli import app
from intake.runtime import Runtime
from tests.channels.conftest import TestMailbox
from tests.channels.email_builders import build_email


@pytest.mark.dovecot
def test_poll_email_reads_the_mailbox_once_and_says_what_it_read(
    email_runtime: Runtime, mailbox: TestMailbox
) -> None:
    mailbox.append(
        build_email("Please can someone fix the gate latch at 4 Oak Close.", sender="gate@example.net")
    )

    first = CliRunner().invoke(app, ["poll-email"])
    second = CliRunner().invoke(app, ["poll-email"])

    assert first.exit_code == 0, first.output
    assert "1 fetched, 1 new, 0 already stored" in first.output
    assert "0 fetched, 0 new" in second.output


def test_poll_email_without_a_mailbox_says_what_to_set(runtime: Runtime) -> None:
    result = CliRunner().invoke(app, ["poll-email"])

    assert result.exit_code == 2
    assert "INTAKE_IMAP_HOST" in result.output
