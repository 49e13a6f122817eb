"""UK working days: Monday to Friday less the bank holidays of the landlord's nation.

Deadlines are counted in Europe/London local dates. An item received on a weekend or a bank holiday
counts from the next working day, and a deadline falls at the END of its due day (23:59:59 London),
returned as an aware UTC datetime so it can be stored and compared anywhere.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
END_OF_DAY = time(23, 59, 59)

# Our nation names → the `holidays` package's UK subdivision codes.
NATION_SUBDIVISIONS: dict[str, str] = {
    "england": "ENG",
    "wales": "WLS",
    "scotland": "SCT",
    "northern_ireland": "NIR",
}
# Spellings people type in settings files; all resolve to the names above.
NATION_ALIASES: dict[str, str] = {
    "eng": "england",
    "england_and_wales": "england",
    "wls": "wales",
    "sct": "scotland",
    "nir": "northern_ireland",
    "ni": "northern_ireland",
}


def resolve_nation(nation: str) -> str:
    """The canonical nation name; unknown names fail loudly, naming the choices."""
    key = nation.strip().lower().replace(" ", "_").replace("-", "_")
    key = NATION_ALIASES.get(key, key)
    if key not in NATION_SUBDIVISIONS:
        choices = ", ".join(NATION_SUBDIVISIONS)
        raise ValueError(f"unknown nation {nation!r}: choose one of {choices}")
    return key


def london_date(moment: datetime) -> date:
    """The Europe/London calendar date of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"an aware datetime is needed (with a time zone), got naive {moment.isoformat()}")
    return moment.astimezone(LONDON).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Europe/London on `day`, as an aware UTC datetime."""
    return datetime.combine(day, END_OF_DAY, tzinfo=LONDON).astimezone(UTC)


class WorkingCalendar:
    """Working days for one UK nation; bank holidays come from the `holidays` package."""

    def __init__(self, nation: str = "england") -> None:
        self.nation = resolve_nation(nation)
        self.subdivision = NATION_SUBDIVISIONS[self.nation]
        self._holidays: dict[date, str] = {}
        self._loaded_years: set[int] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.nation!r})"

    def bank_holiday(self, day: date) -> str | None:
        """The bank holiday's name on `day` in this nation, or None."""
        self._load_year(day.year)
        return self._holidays.get(day)

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = london_date(day)
        return day.weekday() < 5 and self.bank_holiday(day) is None

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def counting_start(self, start: datetime) -> date:
        """The London date counting starts from: the receipt date, moved on past non-working days."""
        return self.next_working_day(london_date(start))

    def add_working_days_to_date(self, day: date, days: int) -> date:
        """The working day `days` working days after `day` (itself moved to a working day first)."""
        if days < 0:
            raise ValueError(f"cannot add a negative number of working days ({days})")
        current = self.next_working_day(day)
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of the due working day: `days` working days after `start`, counted in London.

        Received Monday + 3 → end of Thursday. Received on a Saturday or a bank holiday, counting
        starts from the next working day, so Saturday + 3 → end of the following Thursday.
        """
        return end_of_day(self.add_working_days_to_date(london_date(start), days))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days from `start` to `end` as `add_working_days` counts them (negative if end is earlier).

        `working_days_between(t, add_working_days(t, n)) == n` for every n ≥ 0.
        """
        first = self.counting_start(start)
        last = london_date(end)
        if last < first:
            return -self._count_working_days(last, first)
        return self._count_working_days(first, last)

    def _count_working_days(self, after: date, through: date) -> int:
        """Working days d with after < d ≤ through."""
        count = 0
        day = after + timedelta(days=1)
        while day <= through:
            if self.is_working_day(day):
                count += 1
            day += timedelta(days=1)
        return count

    def _load_year(self, year: int) -> None:
        # Copied year by year into a plain dict under a lock: the package's own object expands
        # lazily on lookup, which is not safe when several worker threads share one calendar.
        if year in self._loaded_years:
            return
        with self._lock:
            if year not in self._loaded_years:
                for day, name in holidays.UnitedKingdom(subdiv=self.subdivision, years=year).items():
                    self._holidays[day] = name
                self._loaded_years.add(year)


def add_calendar_days(start: datetime, days: int) -> datetime:
    """End of the London day `days` calendar days after `start` (weekends and holidays count)."""
    return end_of_day(london_date(start) + timedelta(days=days))


def add_months(start: datetime, months: int) -> datetime:
    """End of the London day `months` months after `start`, clamped to the month's last day."""
    day = london_date(start)
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    following = date(year + month // 12, month % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return end_of_day(date(year, month, min(day.day, last_day)))
