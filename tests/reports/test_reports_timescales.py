"""The Code's timescales and nearest-rank percentiles, on dates worked out by hand."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from intake.reports.timescales import Distribution, WorkingDayCounter, code_timescales, elapsed_working_days
from triage_rules.working_days import WorkingCalendar

CALENDAR = WorkingCalendar("england")


def test_the_codes_timescales_come_from_its_policy_profile() -> None:
    code = code_timescales()
    assert (
        code["stage_1"].acknowledge_within,
        code["stage_1"].respond_within,
        code["stage_1"].extension_within,
    ) == (5, 10, 10)
    assert (code["stage_2"].respond_within, code["stage_2"].extension_within) == (20, 20)


@pytest.mark.parametrize(
    ("entered", "acknowledged", "extended", "due", "why"),
    [
        (
            date(2026, 7, 6),
            date(2026, 7, 6),
            None,
            date(2026, 7, 20),
            "10 working days from a Monday acknowledgement",
        ),
        (
            date(2026, 8, 31),
            date(2026, 8, 31),
            None,
            date(2026, 9, 15),
            "a bank-holiday start counts from the Tuesday",
        ),
        (
            date(2026, 7, 8),
            date(2026, 7, 20),
            None,
            date(2026, 7, 29),
            "a late acknowledgement: clock from when it was due",
        ),
        (date(2026, 7, 8), None, None, date(2026, 7, 29), "never acknowledged: likewise"),
        (
            date(2026, 7, 1),
            date(2026, 7, 1),
            date(2026, 7, 29),
            date(2026, 7, 29),
            "extension within the limit",
        ),
        (
            date(2026, 7, 1),
            date(2026, 7, 1),
            date(2026, 8, 12),
            date(2026, 7, 29),
            "extension capped at 10 more days",
        ),
        (
            date(2026, 7, 1),
            date(2026, 7, 1),
            date(2026, 7, 10),
            date(2026, 7, 15),
            "an 'extension' earlier than due changes nothing",
        ),
    ],
)
def test_stage_1_due_days(entered, acknowledged, extended, due, why) -> None:  # type: ignore[no-untyped-def]
    assert (
        code_timescales()["stage_1"].due_day(
            CALENDAR, entered=entered, acknowledged=acknowledged, extended_until=extended
        )
        == due
    ), why


def test_elapsed_working_days_skip_weekends_and_bank_holidays() -> None:
    assert (
        elapsed_working_days(CALENDAR, date(2026, 8, 28), date(2026, 9, 1)) == 1
    )  # Fri → Tue over the holiday
    assert elapsed_working_days(CALENDAR, date(2026, 8, 31), date(2026, 8, 31)) == 0  # same (holi)day
    assert elapsed_working_days(CALENDAR, date(2026, 7, 4), date(2026, 7, 6)) == 0  # Saturday → Monday


def test_nearest_rank_percentiles() -> None:
    spread = Distribution(Counter({5: 2, 6: 1, 9: 1, 10: 2, 11: 1, 17: 1, 19: 1, 25: 1}))
    assert (spread.total, spread.median, spread.p90) == (10, 10, 19)
    assert Distribution(Counter()).median is None
    assert Distribution.of([(3, 1)]).p90 == 3


def test_the_fast_counter_agrees_with_the_calendar_day_by_day() -> None:
    counter = WorkingDayCounter(CALENDAR)
    days = [date(2026, 3, 20) + timedelta(days=n) for n in range(0, 300, 3)]
    for start in days:
        for end in (start + timedelta(days=k) for k in (-3, 0, 1, 2, 5, 9, 17, 40)):
            assert counter.elapsed(start, end) == elapsed_working_days(CALENDAR, start, end), (start, end)


def test_the_fast_counter_adds_working_days_as_the_calendar_does() -> None:
    """Every day of two years (Easter, Christmas and the August bank holiday inside), from 0 to 40
    working days on, asked in an order that makes the counter's table grow both ways."""
    counter = WorkingDayCounter(CALENDAR)
    days = [date(2026, 6, 1) + timedelta(days=n) for n in range(0, 365)]
    days += [date(2025, 6, 1) + timedelta(days=n) for n in range(0, 365)]
    for day in days:
        for added in (0, 1, 5, 10, 20, 40):
            assert counter.add_working_days_to_date(day, added) == CALENDAR.add_working_days_to_date(
                day, added
            ), (day, added)
    with pytest.raises(ValueError):
        counter.add_working_days_to_date(date(2026, 7, 1), -1)


@pytest.mark.parametrize("stage", ["stage_1", "stage_2"])
def test_due_days_are_the_same_through_the_fast_counter(stage: str) -> None:
    code = code_timescales()[stage]
    counter = WorkingDayCounter(CALENDAR)
    for entered in (date(2026, 8, 20) + timedelta(days=n) for n in range(20)):
        for acknowledged in (None, entered, entered + timedelta(days=9)):
            for extended in (None, entered + timedelta(days=30), entered + timedelta(days=90)):
                asked = {"entered": entered, "acknowledged": acknowledged, "extended_until": extended}
                assert code.due_day(counter, **asked) == code.due_day(CALENDAR, **asked), asked
