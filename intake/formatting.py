"""Formatting shared by pages and reports: dates in UK time, time left to a deadline, labels in plain words
(also installed as template filters)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

UK = ZoneInfo("Europe/London")


def uk_time(value: datetime | None, fmt: str = "%-d %b %Y %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(UK).strftime(fmt)


def uk_date(value: datetime | None) -> str:
    return uk_time(value, "%-d %B %Y")


def time_left(due_at: datetime | None, now: datetime | None = None) -> str:
    """'2 days 3 hours left', 'due in 40 minutes', 'overdue by 1 day' — short enough for a queue row."""
    if due_at is None:
        return ""
    now = now or datetime.now(UTC)
    seconds = int((due_at - now).total_seconds())
    words = _duration(abs(seconds))
    return f"{words} left" if seconds >= 0 else f"overdue by {words}"


def is_overdue(due_at: datetime | None, now: datetime | None = None) -> bool:
    return due_at is not None and due_at < (now or datetime.now(UTC))


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
        time_left=time_left,
        label=label,
        percent=percent,
        first_line=first_line,
    )
    environment.tests["overdue"] = is_overdue
