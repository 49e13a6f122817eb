"""The time, as an input: domain code asks a clock for "now" instead of reading the system clock.

The runtime carries one `Clock`. In production it is `SystemClock`; tests and the lifecycle
simulation move time with time-machine (which moves `datetime.now` for every reader at once, the
ORM's column defaults included) or hand in a `FixedClock`. Every "now" in intake/ comes from here,
so a whole quarter at a landlord can run in seconds and every date a person sees can be checked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


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


def now_from(clock: Clock | None) -> datetime:
    """`clock.now()`, or the system clock's when none was handed in (module-level helpers)."""
    return (clock or SYSTEM_CLOCK).now()
