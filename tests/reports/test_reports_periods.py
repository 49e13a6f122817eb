"""Periods: the text forms, their London-day bounds in UTC, and the buckets of a report's time axis."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from intake.reports.errors import InvalidPeriod
from intake.reports.periods import default_period, parse_period, recent_periods


def test_a_calendar_quarter_runs_from_london_midnight_to_london_midnight() -> None:
    q3 = parse_period("2026-Q3")
    assert (q3.first_day, q3.last_day) == (date(2026, 7, 1), date(2026, 9, 30))
    assert q3.start == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)  # BST
    assert q3.end == datetime(2026, 9, 30, 23, 0, tzinfo=UTC)
    q4 = parse_period("2026-Q4")
    assert q4.end == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)  # GMT


def test_financial_years_and_quarters_run_april_to_march() -> None:
    year = parse_period("FY2026-27")
    assert (year.first_day, year.last_day) == (date(2026, 4, 1), date(2027, 3, 31))
    assert parse_period("fy2026/2027") == year
    assert (parse_period("FY2026-27-Q1").first_day, parse_period("FY2026-27-Q1").last_day) == (
        date(2026, 4, 1),
        date(2026, 6, 30),
    )
    assert (parse_period("FY2026-27-Q4").first_day, parse_period("FY2026-27-Q4").last_day) == (
        date(2027, 1, 1),
        date(2027, 3, 31),
    )
    assert parse_period("FY2026-27-Q3").financial_year_to_date().first_day == date(2026, 4, 1)
    assert parse_period("2026-Q3").financial_year().label == "FY2026-27"


@pytest.mark.parametrize(
    "text", ["2026-07", "2026-Q3", "FY2026-27", "FY2026-27-Q2", "2026", "2026-07-01..2026-07-15"]
)
def test_every_period_reads_back_from_its_label(text: str) -> None:
    assert parse_period(parse_period(text).label) == parse_period(text)


@pytest.mark.parametrize(
    "text", ["", "2026-13", "2026-Q5", "FY2026-28", "2026-07-15..2026-07-01", "last quarter"]
)
def test_nonsense_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_period(text)


def test_buckets_are_days_weeks_or_months() -> None:
    assert len(parse_period("2026-07").buckets()) == 31
    weeks = parse_period("2026-Q3").buckets()
    assert weeks[0].label == "w/c 2026-06-29" and weeks[0].first_day == date(2026, 7, 1)  # clipped
    assert weeks[-1].last_day == date(2026, 9, 30)
    assert [b.label for b in parse_period("FY2026-27").buckets()][:2] == ["2026-04", "2026-05"]


def test_the_default_is_the_last_complete_quarter_and_the_picker_offers_recent_periods() -> None:
    assert default_period(date(2026, 10, 14)).label == "2026-Q3"
    choices = recent_periods(date(2026, 10, 14))
    assert choices["Months"][0].label == "2026-10"
    assert choices["Financial quarters"][0].label == "FY2026-27-Q3"
    assert choices["Financial years"][0].label == "FY2026-27"
