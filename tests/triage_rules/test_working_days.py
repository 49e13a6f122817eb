"""Working days: Monday to Friday less the nation's bank holidays, counted in Europe/London."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from triage_rules.working_days import WorkingCalendar, add_calendar_days, add_months

LONDON = ZoneInfo("Europe/London")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in London time (what a resident's clock says)."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def due_date(due: datetime) -> date:
    return due.astimezone(LONDON).date()


@pytest.fixture(scope="module")
def england() -> WorkingCalendar:
    return WorkingCalendar("england")


@pytest.fixture(scope="module")
def scotland() -> WorkingCalendar:
    return WorkingCalendar("scotland")


def test_weekends_and_bank_holidays_are_not_working_days(england: WorkingCalendar) -> None:
    assert england.is_working_day(date(2026, 4, 2))  # Thursday before Easter
    assert not england.is_working_day(date(2026, 4, 3))  # Good Friday
    assert not england.is_working_day(date(2026, 4, 4))  # Saturday
    assert not england.is_working_day(date(2026, 4, 6))  # Easter Monday
    assert not england.is_working_day(date(2026, 12, 28))  # Boxing Day (substitute day)


def test_a_deadline_is_the_end_of_the_due_working_day_in_london_returned_in_utc(
    england: WorkingCalendar,
) -> None:
    due = england.add_working_days(at(2026, 3, 9), 3)  # Monday in GMT
    assert due == datetime(2026, 3, 12, 23, 59, 59, tzinfo=UTC)
    summer = england.add_working_days(at(2026, 6, 8), 3)  # Monday in BST
    assert summer.tzinfo == UTC
    assert summer == datetime(2026, 6, 11, 22, 59, 59, tzinfo=UTC)
    assert summer.astimezone(LONDON).time().isoformat() == "23:59:59"


def test_easter_2026_skips_good_friday_and_easter_monday(england: WorkingCalendar) -> None:
    assert due_date(england.add_working_days(at(2026, 4, 2), 1)) == date(2026, 4, 7)
    assert due_date(england.add_working_days(at(2026, 4, 2), 3)) == date(2026, 4, 9)


def test_scotland_works_on_easter_monday(scotland: WorkingCalendar) -> None:
    assert scotland.is_working_day(date(2026, 4, 6))
    assert due_date(scotland.add_working_days(at(2026, 4, 2), 1)) == date(2026, 4, 6)


def test_christmas_boxing_day_and_new_year(england: WorkingCalendar) -> None:
    # Christmas Day 2026 is a Friday and Boxing Day a Saturday, so Monday 28th is the substitute.
    assert due_date(england.add_working_days(at(2026, 12, 24), 1)) == date(2026, 12, 29)
    assert due_date(england.add_working_days(at(2026, 12, 31), 1)) == date(2027, 1, 4)


def test_scotland_also_takes_2_january(england: WorkingCalendar, scotland: WorkingCalendar) -> None:
    assert due_date(england.add_working_days(at(2025, 12, 31), 1)) == date(2026, 1, 2)
    assert due_date(scotland.add_working_days(at(2025, 12, 31), 1)) == date(2026, 1, 5)


def test_st_andrews_day_is_a_holiday_in_scotland_only(
    england: WorkingCalendar, scotland: WorkingCalendar
) -> None:
    assert england.is_working_day(date(2026, 11, 30))
    assert not scotland.is_working_day(date(2026, 11, 30))
    assert due_date(scotland.add_working_days(at(2026, 11, 27), 1)) == date(2026, 12, 1)
    assert due_date(england.add_working_days(at(2026, 11, 27), 1)) == date(2026, 11, 30)


def test_the_may_bank_holidays(england: WorkingCalendar) -> None:
    assert due_date(england.add_working_days(at(2026, 5, 1), 1)) == date(2026, 5, 5)  # early May, 4 May
    assert due_date(england.add_working_days(at(2026, 5, 22), 1)) == date(2026, 5, 26)  # spring, 25 May


def test_an_item_received_on_a_saturday_counts_from_monday(england: WorkingCalendar) -> None:
    assert due_date(england.add_working_days(at(2026, 3, 7), 3)) == date(2026, 3, 12)
    assert due_date(england.add_working_days(at(2026, 3, 7), 0)) == date(2026, 3, 9)


def test_an_item_received_on_a_bank_holiday_counts_from_the_next_working_day(
    england: WorkingCalendar,
) -> None:
    assert due_date(england.add_working_days(at(2026, 5, 25), 1)) == date(2026, 5, 27)
    assert due_date(england.add_working_days(at(2026, 4, 3), 1)) == date(2026, 4, 8)


def test_the_london_date_decides_not_the_utc_date(england: WorkingCalendar) -> None:
    # 23:30 UTC on Friday 5 June is 00:30 on Saturday in London: counting starts on Monday.
    late_friday_utc = datetime(2026, 6, 5, 23, 30, tzinfo=UTC)
    assert due_date(england.add_working_days(late_friday_utc, 1)) == date(2026, 6, 9)


def test_northern_ireland_has_st_patricks_day_and_the_twelfth() -> None:
    northern_ireland = WorkingCalendar("northern_ireland")
    assert not northern_ireland.is_working_day(date(2026, 3, 17))
    assert not northern_ireland.is_working_day(date(2026, 7, 13))  # the Twelfth falls on a Sunday
    assert WorkingCalendar("england").is_working_day(date(2026, 3, 17))


def test_wales_keeps_the_england_and_wales_holidays() -> None:
    wales = WorkingCalendar("wales")
    assert not wales.is_working_day(date(2026, 4, 6))
    assert wales.is_working_day(date(2026, 1, 2))


def test_an_unknown_nation_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="england, wales, scotland, northern_ireland"):
        WorkingCalendar("cornwall")


def test_a_naive_datetime_is_refused(england: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="aware"):
        england.add_working_days(datetime(2026, 4, 2, 10), 3)


def test_working_days_between_undoes_add_working_days(
    england: WorkingCalendar, scotland: WorkingCalendar
) -> None:
    start = at(2026, 12, 18)
    for offset in range(0, 30, 3):
        received = start + timedelta(days=offset)
        for days in (0, 1, 3, 5, 10, 20):
            for calendar in (england, scotland):
                assert (
                    calendar.working_days_between(received, calendar.add_working_days(received, days)) == days
                )


def test_working_days_between_is_negative_when_the_end_is_earlier(england: WorkingCalendar) -> None:
    assert england.working_days_between(at(2026, 4, 9), at(2026, 4, 2)) == -3


def test_calendar_days_and_months_count_every_day_to_the_end_of_the_london_day() -> None:
    assert due_date(add_calendar_days(at(2026, 12, 10), 30)) == date(2027, 1, 9)
    assert due_date(add_months(at(2026, 1, 31), 1)) == date(2026, 2, 28)
    assert due_date(add_months(at(2026, 11, 15), 3)) == date(2027, 2, 15)
