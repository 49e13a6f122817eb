"""Time is an input: domain code asks the runtime's clock for "now", never the machine's clock.

A bare `datetime.now()`, `datetime.utcnow()`, `date.today()` or `time.time()` in the service's code
makes a date a person sees untestable (the lifecycle simulation cannot move it) and wrong in a
quarter replayed later. The one reader of the machine's clock is intake/clock.py (`SystemClock`);
the files listed in ALLOWED below are known exceptions, each with the reason it may stay. Interval
timers (`time.monotonic`, `time.perf_counter`) measure durations, not dates, and are allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_PACKAGES = ("intake", "channels", "models", "triage_rules", "classifier")

# path -> why it may read the machine's clock. Keep this short; every entry is a debt or a reason.
ALLOWED: dict[str, str] = {
    "intake/clock.py": "the one SystemClock: everything else reads the runtime's clock",
}

# (module, function) pairs that read the wall clock, by the names code uses for them.
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
}


def wall_clock_reads(source: str) -> list[int]:
    """Line numbers of calls such as `datetime.now(...)`, `datetime.datetime.utcnow()`, `date.today()`
    and `time.time()`, and of `from time import time` style imports of them."""
    found: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = (
                owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            )
            if (owner_name, node.func.attr) in WALL_CLOCK_CALLS:
                found.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "time"
            and any(("time", alias.name) in WALL_CLOCK_CALLS for alias in node.names)
        ):
            found.append(node.lineno)
    return found


def _domain_files() -> list[Path]:
    return sorted(path for package in DOMAIN_PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_no_domain_code_reads_the_machines_clock_except_the_clock_itself() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _domain_files()
        if str(path.relative_to(ROOT)) not in ALLOWED
        for line in wall_clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "read runtime.clock (or a `now` handed in) instead of the machine's clock"


def test_every_allowed_file_still_exists_and_still_needs_its_exception() -> None:
    stale = [
        name for name in ALLOWED
        if not (ROOT / name).exists() or not wall_clock_reads((ROOT / name).read_text(encoding="utf-8"))
    ]
    assert stale == [], "drop these from ALLOWED: they no longer read the machine's clock"


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime, UTC\nx = datetime.now(UTC)\n",
        "import datetime\nx = datetime.datetime.utcnow()\n",
        "from datetime import date\nx = date.today()\n",
        "import time\nx = time.time()\n",
        "from time import time\n",
        "def f(now=None):\n    return now or datetime.now(UTC)\n",
    ],
)
def test_the_check_sees_each_way_of_reading_the_clock(source: str) -> None:
    assert wall_clock_reads(source)


@pytest.mark.parametrize(
    "source",
    [
        "import time\nstarted = time.perf_counter()\nleft = time.monotonic()\n",
        "def f(runtime):\n    return runtime.clock.now()\n",
        "from datetime import datetime\nx = datetime.fromisoformat('2026-10-01T09:00:00+00:00')\n",
    ],
)
def test_the_check_leaves_intervals_and_the_runtimes_clock_alone(source: str) -> None:
    assert wall_clock_reads(source) == []
