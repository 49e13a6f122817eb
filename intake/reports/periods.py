"""Reporting periods in Europe/London: months, calendar and financial quarters and years, custom ranges.

A period is a run of whole London days. It is turned into a half-open UTC interval
[`start`, `end`) only at the database boundary, so a message that arrives at 00:30 on 1 July in
British Summer Time (23:30 UTC on 30 June) counts in July, as a person in the office would count it.

Accepted forms (`parse_period`):
    2026-07              a month
    2026-Q3              a calendar quarter (Q3 = July–September)
    FY2026-27            a financial year, April 2026 to March 2027 (as UK landlords report)
    FY2026-27-Q1         a financial quarter (Q1 = April–June 2026)
    2026                 a calendar year
    2026-07-01..2026-07-15   a custom range of days, both ends included
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from intake.reports.errors import InvalidPeriod

LONDON = ZoneInfo("Europe/London")
FINANCIAL_YEAR_FIRST_MONTH = 4  # April
MIN_REPORT_YEAR, MAX_REPORT_YEAR = 1900, 2999
MAX_CUSTOM_DAYS = 3 * 366  # a range longer than this is a mistake, not a report
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
ACCEPTED_FORMS = "2026-07, 2026-Q3, FY2026-27, FY2026-27-Q1, 2026 or 2026-07-01..2026-07-15"

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_FINANCIAL_YEAR = re.compile(r"^FY ?(\d{4})[-/](\d{2}|\d{4})(?:[- ]?Q([1-4]))?$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|to|/)\s*(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Bucket:
    """One step of a report's time axis (a day, a week or a month), clipped to the period."""

    label: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Period:
    kind: str  # month / quarter / financial_quarter / year / financial_year / custom
    label: str  # the canonical text: parse_period(p.label) == p
    title: str  # in words, for page headings
    first_day: date
    last_day: date  # included

    @property
    def start(self) -> datetime:
        """Midnight London at the start of the first day, in UTC."""
        return london_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """Midnight London after the last day, in UTC (excluded)."""
        return london_midnight(self.last_day + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def __post_init__(self) -> None:
        # Years the report queries (and their "day after the end") can compute: 9999-12 would
        # overflow the date arithmetic and answer 500 instead of a clear refusal.
        if not (self.first_day.year >= MIN_REPORT_YEAR and self.last_day.year <= MAX_REPORT_YEAR):
            raise InvalidPeriod(f"reports cover the years {MIN_REPORT_YEAR} to {MAX_REPORT_YEAR}")

    def contains_day(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def buckets(self) -> list[Bucket]:
        """Days for up to a month, weeks (Monday to Sunday) up to a quarter, else months."""
        if self.days <= 31:
            return [
                Bucket(day.isoformat(), day, day)
                for day in (self.first_day + timedelta(days=n) for n in range(self.days))
            ]
        if self.days <= 92:
            return _week_buckets(self.first_day, self.last_day)
        return _month_buckets(self.first_day, self.last_day)

    def financial_year(self) -> Period:
        """The financial year the period ends in (for year-to-date TSM figures)."""
        return financial_year(financial_year_of(self.last_day))

    def financial_year_to_date(self) -> Period:
        year = self.financial_year()
        if year.first_day == self.first_day and year.last_day == self.last_day:
            return year
        return custom_period(year.first_day, self.last_day)

    def __str__(self) -> str:
        return self.label


def london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def parse_period(text: str) -> Period:
    """A `Period` from its text form; InvalidPeriod names the accepted forms otherwise."""
    try:
        return _parse_period((text or "").strip())
    except InvalidPeriod:
        raise
    except (ValueError, OverflowError) as error:  # e.g. a year whose next month is past year 9999
        raise InvalidPeriod(f"reports cover the years {MIN_REPORT_YEAR} to {MAX_REPORT_YEAR} ({error})") from error


def _parse_period(value: str) -> Period:
    if match := _MONTH.match(value):
        return month(int(match[1]), _checked_month(int(match[2]), value))
    if match := _QUARTER.match(value):
        return quarter(int(match[1]), int(match[2]))
    if match := _FINANCIAL_YEAR.match(value):
        first_year = int(match[1])
        second = match[2]
        expected = first_year + 1
        if int(second) not in (expected, expected % 100):
            raise InvalidPeriod(
                f"{value!r}: a financial year runs April to March, so FY{first_year} is followed by "
                f"{expected % 100:02d} (FY{first_year}-{expected % 100:02d})"
            )
        if match[3]:
            return financial_quarter(first_year, int(match[3]))
        return financial_year(first_year)
    if match := _YEAR.match(value):
        return year(int(match[1]))
    if match := _CUSTOM.match(value):
        try:
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as error:
            raise InvalidPeriod(f"{value!r}: {error}") from error
        return custom_period(first, last)
    raise InvalidPeriod(f"{value!r} is not a period; use one of {ACCEPTED_FORMS}")


def _checked_month(number: int, value: str) -> int:
    if not 1 <= number <= 12:
        raise InvalidPeriod(f"{value!r}: there is no month {number}")
    return number


def month(year_number: int, month_number: int) -> Period:
    first = date(year_number, month_number, 1)
    return Period(
        kind="month",
        label=f"{year_number}-{month_number:02d}",
        title=f"{MONTH_NAMES[month_number - 1]} {year_number}",
        first_day=first,
        last_day=_month_end(first),
    )


def quarter(year_number: int, number: int) -> Period:
    first = date(year_number, 3 * (number - 1) + 1, 1)
    last = _month_end(date(year_number, 3 * number, 1))
    return Period(
        kind="quarter",
        label=f"{year_number}-Q{number}",
        title=f"{MONTH_NAMES[first.month - 1]} to {MONTH_NAMES[last.month - 1]} {year_number}",
        first_day=first,
        last_day=last,
    )


def financial_year(first_year: int) -> Period:
    label = f"FY{first_year}-{(first_year + 1) % 100:02d}"
    return Period(
        kind="financial_year",
        label=label,
        title=f"Financial year {first_year} to {first_year + 1} (April to March)",
        first_day=date(first_year, FINANCIAL_YEAR_FIRST_MONTH, 1),
        last_day=date(first_year + 1, FINANCIAL_YEAR_FIRST_MONTH, 1) - timedelta(days=1),
    )


def financial_quarter(first_year: int, number: int) -> Period:
    """Q1 = April–June of `first_year`, … Q4 = January–March of the year after."""
    month_index = FINANCIAL_YEAR_FIRST_MONTH - 1 + 3 * (number - 1)
    first = date(first_year + month_index // 12, month_index % 12 + 1, 1)
    last_month = date(first.year + (first.month + 1) // 12, (first.month + 1) % 12 + 1, 1)
    last = _month_end(last_month)
    return Period(
        kind="financial_quarter",
        label=f"FY{first_year}-{(first_year + 1) % 100:02d}-Q{number}",
        title=f"Quarter {number} of {first_year}/{(first_year + 1) % 100:02d}: "
        f"{MONTH_NAMES[first.month - 1]} to {MONTH_NAMES[last.month - 1]} {last.year}",
        first_day=first,
        last_day=last,
    )


def year(year_number: int) -> Period:
    return Period(
        kind="year",
        label=str(year_number),
        title=f"Calendar year {year_number}",
        first_day=date(year_number, 1, 1),
        last_day=date(year_number, 12, 31),
    )


def custom_period(first: date, last: date) -> Period:
    if last < first:
        raise InvalidPeriod(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise InvalidPeriod(f"a custom range may be at most {MAX_CUSTOM_DAYS} days long")
    return Period(
        kind="custom",
        label=f"{first.isoformat()}..{last.isoformat()}",
        title=f"{_day_words(first)} to {_day_words(last)}",
        first_day=first,
        last_day=last,
    )


def financial_year_of(day: date) -> int:
    """The first calendar year of the financial year containing `day`."""
    return day.year if day.month >= FINANCIAL_YEAR_FIRST_MONTH else day.year - 1


def quarter_of(day: date) -> Period:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def financial_quarter_of(day: date) -> Period:
    first_year = financial_year_of(day)
    months_in = (day.month - FINANCIAL_YEAR_FIRST_MONTH) % 12
    return financial_quarter(first_year, months_in // 3 + 1)


def recent_periods(today: date, *, count: int = 6) -> dict[str, list[Period]]:
    """Periods to offer in the picker: recent months, quarters, financial quarters and years."""
    months: list[Period] = []
    cursor = date(today.year, today.month, 1)
    for _ in range(count * 2):
        months.append(month(cursor.year, cursor.month))
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    quarters: list[Period] = []
    financial_quarters: list[Period] = []
    day = today
    for _ in range(count):
        quarters.append(quarter_of(day))
        financial_quarters.append(financial_quarter_of(day))
        day = quarters[-1].first_day - timedelta(days=1)
    first_year = financial_year_of(today)
    financial_years = [financial_year(first_year - n) for n in range(3)]
    return {
        "Months": months,
        "Quarters": quarters,
        "Financial quarters": financial_quarters,
        "Financial years": financial_years,
    }


def default_period(today: date) -> Period:
    """The last complete calendar quarter: what a board report usually covers."""
    return quarter_of(quarter_of(today).first_day - timedelta(days=1))


def _month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _week_buckets(first: date, last: date) -> list[Bucket]:
    buckets: list[Bucket] = []
    week_start = first - timedelta(days=first.weekday())
    while week_start <= last:
        clipped_first = max(week_start, first)
        clipped_last = min(week_start + timedelta(days=6), last)
        buckets.append(Bucket(f"w/c {week_start.isoformat()}", clipped_first, clipped_last))
        week_start += timedelta(days=7)
    return buckets


def _month_buckets(first: date, last: date) -> list[Bucket]:
    buckets: list[Bucket] = []
    cursor = date(first.year, first.month, 1)
    while cursor <= last:
        end = _month_end(cursor)
        buckets.append(Bucket(f"{cursor.year}-{cursor.month:02d}", max(cursor, first), min(end, last)))
        cursor = end + timedelta(days=1)
    return buckets


def _day_words(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"
