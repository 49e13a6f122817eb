"""A quarter at a landlord, in `make test`: seed messages from all four channels over 92 days with
staff at work, every invariant of issue 12 checked after every simulated day, on SQLite and
PostgreSQL. The full 3,000-message quarter runs from `python -m bench.simulate_quarter` (too slow for
`make test` on a shared machine); this one has fewer messages and the same days, events and checks."""

from __future__ import annotations

import pytest

from bench.simulate_quarter import Quarter, QuarterConfig

MESSAGES_IN_MAKE_TEST = 150


@pytest.mark.slow
@pytest.mark.timeout(900)  # about 20 s of CPU each; a shared, loaded machine stretches the wall time
def test_a_simulated_quarter_keeps_every_date_right(runtime) -> None:  # type: ignore[no-untyped-def]
    quarter = Quarter(runtime, QuarterConfig(messages=MESSAGES_IN_MAKE_TEST))
    figures = quarter.run()
    assert figures.violations == [], figures.report()
    # The quarter really exercised what the invariants are about.
    assert figures.days >= 92
    assert set(figures.channels) == {"email", "sms", "web_form", "call_transcript"}
    assert figures.arrivals["late"] and figures.arrivals["follow_up"] and figures.arrivals["shared"]
    assert figures.letters["received"] and figures.actions["responded"] and figures.actions["closed"]
    assert figures.checks["overdue counts agree"] == figures.days
    assert figures.checks["reports reconcile"] >= 3
