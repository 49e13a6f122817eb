"""Working-day arithmetic on the small grouped rows the queries return, and percentiles from counts.

The database groups events by their London dates (a few thousand groups for a quarter, however many
items); this module turns each group into working days with the landlord's `WorkingCalendar`, so
bank holidays are counted in one place for deadlines and for reports alike.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from triage_rules.policies import PolicyProfile, load_policy
from triage_rules.working_days import LONDON, WorkingCalendar

# The Housing Ombudsman's Complaint Handling Code: CH02 is measured against it whatever the
# landlord's own policy says.
CODE_POLICY = "ombudsman-2024"
TSM_STAGES = ("stage_1", "stage_2")


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LONDON)


def elapsed_working_days(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Working days from `start` to `end` as deadlines count them (never below zero).

    A start on a weekend or bank holiday counts from the next working day, so a complaint received
    on a bank holiday Monday and answered on the Tuesday took 0 working days.
    """
    return max(calendar.working_days_between(_noon(start), _noon(end)), 0)


class WorkingDayCounter:
    """`elapsed_working_days` and `add_working_days_to_date` for many dates at once: cumulative counts
    over the dates asked about, so each answer is two look-ups (or a binary search) instead of a
    walk through the days. A year's report asks tens of thousands of times."""

    # Each time the table must grow, it grows this much further, so a report builds it once or twice.
    PADDING = timedelta(days=400)

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self._first: date | None = None
        self._cumulative: list[int] = []  # working days from self._first up to and including each day
        self._next_working: list[int] = []  # offset of the next working day on or after each day

    def elapsed(self, start: date, end: date) -> int:
        self._cover(min(start, end), max(start, end) + timedelta(days=15))
        assert self._first is not None
        first = self._next_working[(start - self._first).days]
        return max(self._cumulative[(end - self._first).days] - self._cumulative[first], 0)

    def add_working_days_to_date(self, day: date, days: int) -> date:
        """What `WorkingCalendar.add_working_days_to_date` answers: the working day `days` working
        days after `day` (itself moved to a working day first)."""
        if days < 0:
            raise ValueError(f"cannot add a negative number of working days ({days})")
        self._cover(day, day + timedelta(days=2 * days + 30))  # bank holidays never come 30 in a row
        assert self._first is not None
        start = self._next_working[(day - self._first).days]
        # The first day whose running count reaches the start's plus `days` is a working day.
        found = bisect_left(self._cumulative, self._cumulative[start] + days, lo=start)
        return self._first + timedelta(days=found)

    def _cover(self, low: date, high: date) -> None:
        if (
            self._first is not None
            and low >= self._first
            and (high - self._first).days < len(self._cumulative)
        ):
            return
        low, high = low - self.PADDING, high + self.PADDING
        first = min(low, self._first) if self._first else low
        last = max(high, self._first + timedelta(days=len(self._cumulative) - 1)) if self._first else high
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        working = [self.calendar.is_working_day(day) for day in days]
        cumulative, total = [], 0
        for is_working in working:
            total += is_working
            cumulative.append(total)
        following, next_index = [0] * len(days), len(days) - 1
        for index in range(len(days) - 1, -1, -1):
            if working[index]:
                next_index = index
            following[index] = next_index
        self._first, self._cumulative, self._next_working = first, cumulative, following


@dataclass(frozen=True)
class Distribution:
    """Whole working days: how many took 0, 1, 2 … and the nearest-rank percentiles."""

    counts: Counter[int]

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, int]]) -> Distribution:
        counts: Counter[int] = Counter()
        for value, count in pairs:
            counts[value] += count
        return cls(counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def percentile(self, share: float) -> int | None:
        """The smallest value with at least `share` of the observations at or below it."""
        total = self.total
        if total == 0:
            return None
        rank = max(math.ceil(share * total), 1)
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        raise AssertionError("unreachable: ranks never exceed the total")

    @property
    def median(self) -> int | None:
        return self.percentile(0.5)

    @property
    def p90(self) -> int | None:
        return self.percentile(0.9)


@dataclass(frozen=True)
class CodeTimescale:
    """One stage of the Code: acknowledge within N, respond within M of acknowledging, extend by ≤ E."""

    stage: str
    acknowledge_within: int
    respond_within: int
    extension_within: int | None

    def due_day(
        self,
        calendar: WorkingCalendar | WorkingDayCounter,
        *,
        entered: date,
        acknowledged: date | None,
        extended_until: date | None,
    ) -> date:
        """The last day a response is in time under the Code.

        The clock starts at the acknowledgement, but a late or missing acknowledgement buys no time:
        it starts no later than the day the acknowledgement was due. A start on a non-working day
        moves to the next working day. An agreed extension moves the date, up to the Code's limit.
        """
        latest_acknowledgement = calendar.add_working_days_to_date(entered, self.acknowledge_within)
        clock = latest_acknowledgement
        if acknowledged is not None and acknowledged < latest_acknowledgement:
            clock = acknowledged
        due = calendar.add_working_days_to_date(clock, self.respond_within)
        if extended_until is not None and extended_until > due:
            if self.extension_within is not None:
                limit = calendar.add_working_days_to_date(due, self.extension_within)
                extended_until = min(extended_until, limit)
            due = extended_until
        return due


def code_timescales(policy: PolicyProfile | None = None) -> dict[str, CodeTimescale]:
    """The Code's stage 1 and stage 2 timescales, read from its policy profile."""
    code = policy or load_policy(CODE_POLICY)
    found: dict[str, CodeTimescale] = {}
    for stage_id in TSM_STAGES:
        stage = code.stage(stage_id)
        acknowledge, respond = stage.target("acknowledge"), stage.target("respond")
        if acknowledge is None or respond is None:
            raise ValueError(f"{code.name} {stage_id} lacks an acknowledge or respond target")
        if "working_days" not in (acknowledge.unit, respond.unit) or acknowledge.unit != respond.unit:
            raise ValueError(f"{code.name} {stage_id}: CH02 expects working-day targets")
        extension = stage.extension.max_within if stage.extension is not None else None
        found[stage_id] = CodeTimescale(stage_id, acknowledge.within, respond.within, extension)
    return found
