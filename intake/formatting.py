"""Formatting shared by pages and reports: dates in UK time, time left to a deadline, labels in plain words
(also installed as template filters)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

UK = ZoneInfo("Europe/London")


def uk_time(value: datetime | None, fmt: str = "%-d %b %Y %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(UK).strftime(fmt)


def uk_date(value: datetime | None) -> str:
    return uk_time(value, "%-d %B %Y")


def time_left(due_at: datetime | None, now: datetime) -> str:
    """'2 days 3 hours left', 'due in 40 minutes', 'overdue by 1 day' — short enough for a queue row."""
    if due_at is None:
        return ""
    seconds = int((due_at - now).total_seconds())
    words = _duration(abs(seconds))
    return f"{words} left" if seconds >= 0 else f"overdue by {words}"


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and due_at < now


# In templates the moment comes from the page's `now` (the runtime's clock), never the system clock.
@pass_context
def _time_left_filter(context: Context, due_at: datetime | None) -> str:
    return time_left(due_at, _now(context))


@pass_context
def _overdue_test(context: Context, due_at: datetime | None) -> bool:
    return is_overdue(due_at, _now(context))


def _now(context: Context) -> datetime:
    """The page's `now`; a macro imported without the page's context asks the runtime's clock."""
    now = context.get("now")
    if isinstance(now, datetime):
        return now
    from intake.runtime import get_runtime

    return get_runtime().clock.now()


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} day{'s' * (days != 1)}" + (f" {hours} h" if hours and days < 3 else "")
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{max(minutes, 1)} min"


def label(value: Any) -> str:
    """`failure_to_provide` → 'failure to provide'."""
    return str(value or "").replace("_", " ")


def percent(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100)}%"


def first_line(text: str | None, limit: int = 110) -> str:
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped:
            return stripped if len(stripped) <= limit else stripped[: limit - 1].rstrip() + "…"
    return ""


def install(environment: Environment) -> None:
    environment.filters.update(
        uk_time=uk_time,
        uk_date=uk_date,
        time_left=_time_left_filter,
        label=label,
        percent=percent,
        first_line=first_line,
    )
    environment.tests["overdue"] = _overdue_test
