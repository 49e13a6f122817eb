"""The Twilio stand-in in a process of its own, for load benchmarks.

In the load generator's process, the stand-in's threads (one per connection the workers keep open)
and the generator's event loop take turns at one GIL: on a slow or busy machine that process, not
the product, set the pace (seen on 5 December: the bench process at 0.7 of a core, falling behind
its 150/s schedule while `intake serve` used 0.2). Here the stand-in runs in a child process, and
the bench asks it, over a pipe, what arrived. `time.monotonic()` is the same clock in both
processes (CLOCK_MONOTONIC), so arrival times compare with the generator's send times.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from tests.channels.twilio_standin import RecordedRequest, TwilioStandIn


def _serve(account_sid: str, auth_token: str, latency_seconds: float, commands: Connection) -> None:
    with TwilioStandIn(account_sid, auth_token, latency_seconds=latency_seconds) as standin:
        commands.send(standin.url)
        while True:
            command, *arguments = commands.recv()
            if command == "stop":
                return
            if command == "messages":
                commands.send(standin.messages)
            elif command == "request_count":
                commands.send(len(standin.requests))
            elif command == "wait_for_messages":
                count, timeout = arguments
                commands.send(len(standin.wait_for_messages(count, timeout=timeout)))


class StandInProcess:
    """`with StandInProcess(account_sid, auth_token) as twilio: ... twilio.url ...`: what the
    benchmark reads of a TwilioStandIn, answered by one running in a child process."""

    def __init__(self, account_sid: str, auth_token: str, *, latency_seconds: float = 0.0) -> None:
        context = multiprocessing.get_context("spawn")  # no inherited threads or sockets
        self._commands, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(account_sid, auth_token, latency_seconds, child_end), daemon=True
        )
        self.url = ""

    def __enter__(self) -> StandInProcess:
        self._process.start()
        self.url = self._commands.recv()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with contextlib.suppress(OSError):  # the child already gone
            self._commands.send(("stop",))
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()

    def _ask(self, *command: Any) -> Any:
        self._commands.send(command)
        return self._commands.recv()

    @property
    def messages(self) -> list[RecordedRequest]:
        """Message-create requests answered 201, as TwilioStandIn.messages."""
        return list(self._ask("messages"))

    def request_count(self) -> int:
        return int(self._ask("request_count"))

    def count_messages_within(self, count: int, *, timeout: float) -> int:
        """How many messages have arrived, waiting up to `timeout` seconds for `count` of them."""
        return int(self._ask("wait_for_messages", count, timeout))
