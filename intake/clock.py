"""The time, as an input: domain code asks a clock for "now" instead of reading the system clock.

The runtime carries one `Clock`. In production it is `SystemClock`; tests and the lifecycle
simulation move time with time-machine (which moves `datetime.now` for every reader at once, the
ORM's column defaults included) or hand in a `FixedClock`. Every "now" in intake/ comes from here,
so a whole quarter at a landlord can run in seconds and every date a person sees can be checked.
The runtime installs its clock on its database engine too, so the tables' default timestamps and
code that is handed only a session (`session_now`) read the same "now". This module is the one
place in domain code that reads the machine's clock (tests/test_clock_is_an_input.py checks).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models.base import CLOCK_OPTION


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock (the one time-machine moves in tests)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests that need one exact moment."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock's moment must be aware (with a time zone)")
        self._moment = moment.astimezone(UTC)

    def now(self) -> datetime:
        return self._moment

    def move_to(self, moment: datetime) -> None:
        self._moment = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._moment += delta


SYSTEM_CLOCK = SystemClock()


def install_clock(engine: Engine, clock: Callable[[], datetime]) -> None:
    """Make `clock` the "now" of everything written through `engine`: the tables' default and
    `onupdate` timestamps (models/base.py `utcnow`) and `session_now` below."""
    engine.update_execution_options(**{CLOCK_OPTION: clock})


def session_now(session: Session) -> datetime:
    """The clock's "now" for code handed only a session (the audit log, staff sessions): the clock
    installed on the engine the session is bound to, which is the runtime's."""
    bind = session.get_bind()
    clock = bind.get_execution_options().get(CLOCK_OPTION)
    if clock is None:
        raise RuntimeError("this session's engine has no clock: build it through intake's Runtime")
    return clock().astimezone(UTC)  # type: ignore[no-any-return]


def now_from(clock: Clock | None) -> datetime:
    """`clock.now()`, or the system clock's when none was handed in (module-level helpers)."""
    return (clock or SYSTEM_CLOCK).now()
