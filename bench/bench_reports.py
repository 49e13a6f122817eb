"""Reports benchmark: every report view against 1,000,000 items in PostgreSQL.

Targets (issue 14): each report for a month or a quarter within 1 s, for a financial year within 2 s;
the board report within 2 s.

    .venv/bin/python bench/bench_reports.py [--url URL] [--items 1000000] [--repeat 5] [--reuse] [--write-docs]

It (re)creates its own database, intake_bench_reports on 127.0.0.1:5432 as user postgres, migrates it
to the latest schema (so the reports' indexes are there), loads the synthetic history of
bench/reports_dataset.py with COPY, runs ANALYZE, builds the reports' daily facts from the tables
(timed: COPY bypasses the ORM, so every day is marked stale and recomputed), then times:
- each view through the service (`build_report`, the queries and the working-day arithmetic), for a
  month, a calendar quarter and a financial year;
- each view as a page, GET /staff/reports?view=… signed in as a manager (queries + SVG + HTML), and
  the whole page, one CSV and the board report for the quarter and the year;
- one change to an item (a case closed through the ORM) and the next report read, which recomputes
  the days that change touched before reading;
- a same-run reference, `SELECT count(*) FROM items` (an index-only scan of every item), at the start
  and at the end, so a figure taken on a loaded machine can be read as a multiple of it.
`--reuse` keeps an already loaded database. `--write-docs` puts the table under "## Reports" in
docs/benchmarks.md. `--json-out` also writes every row, with its target, for bench/verdicts.py;
`--drop-after` drops the database at the end (bench/run_all.sh: a million items take gigabytes).
Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reports_dataset import (  # noqa: E402
    ACK_COLUMNS,
    AUDIT_COLUMNS,
    CORRECTION_COLUMNS,
    DEADLINE_COLUMNS,
    ITEM_COLUMNS,
    NOW,
    generate,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/intake_bench_reports"
# Issue 14's targets: a month or a quarter within 1 s, a financial year (and the board report) within 2 s.
TARGET_SECONDS = {"2026-09": 1.0, "2026-Q3": 1.0, "FY2025-26": 2.0, "FY2026-27": 2.0}
BOARD_TARGET_SECONDS = 2.0
PERIODS = ("2026-09", "2026-Q3", "FY2025-26")
PASSWORD = "bench password for the reports"
DOCS = REPO / "docs" / "benchmarks.md"
HEADING = "## Reports"


def recreate_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": target.database},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def load(url: str, items: int) -> dict[str, int]:
    from intake.db import upgrade_database

    engine = create_engine(url)
    upgrade_database(engine)
    counts = {"items": 0, "deadlines": 0, "acknowledgements": 0, "audit_log": 0, "corrections": 0}
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for batch in generate(items):
            for table, columns, rows in (
                ("items", ITEM_COLUMNS, batch.items),
                ("deadlines", DEADLINE_COLUMNS, batch.deadlines),
                ("acknowledgements", ACK_COLUMNS, batch.acknowledgements),
                ("audit_log", AUDIT_COLUMNS, batch.audit),
                ("corrections", CORRECTION_COLUMNS, batch.corrections),
            ):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
                counts[table] += len(rows)
            raw.commit()
            print(
                f"  loaded {counts['items']:,} items ({time.perf_counter() - started:.0f} s)", file=sys.stderr
            )
        cursor.execute("SELECT setval('items_id_seq', (SELECT max(id) FROM items))")
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    counts["seconds"] = round(time.perf_counter() - started)
    return counts


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """(first run, median of the rest, slowest) in seconds; the first run is the coldest."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    rest = seconds[1:] or seconds
    return seconds[0], statistics.median(rest), max(seconds)


Result = tuple[str, str, float, float, float]


REFERENCE = "reference: SELECT count(*) FROM items"


def target_for(what: str, period: str) -> float | None:
    """The issue's target for a row (None: a one-off cost or the reference, shown without a target)."""
    if what.startswith(("facts:", "reference:")):
        return None
    if what.startswith("board report"):
        return BOARD_TARGET_SECONDS
    return TARGET_SECONDS.get(period, 1.0)


def run(url: str, repeat: int) -> list[Result]:
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from intake import cases
    from intake.app import create_app
    from intake.reports.periods import parse_period
    from intake.reports.service import VIEWS, build_report, refresh_facts
    from intake.runtime import Runtime
    from intake.settings import Settings
    from intake.users import create_user
    from models import Item

    runtime = Runtime.build(
        Settings(_env_file=None, database_url=url, environment="test", redis_url=None, homes=40_000)
    )  # type: ignore[call-arg]

    def count_items() -> object:
        with runtime.database.session() as session:
            return session.scalar(text("SELECT count(*) FROM items"))

    results: list[Result] = [(REFERENCE, "start", *timed(count_items, repeat))]
    print(f"  reference at the start: {results[0][3]:.3f} s (load {_load()})", file=sys.stderr)
    started = time.perf_counter()
    refreshed = refresh_facts(runtime)
    seconds = time.perf_counter() - started
    results.append((f"facts: rebuild ({refreshed.facts:,} rows, {refreshed.days:,} days)", "all", seconds, seconds, seconds))
    print(f"  facts rebuilt in {seconds:.1f} s: {refreshed}", file=sys.stderr)
    for label in PERIODS:
        period = parse_period(label)
        for name in VIEWS:
            first, median, worst = timed(
                lambda period=period, name=name: build_report(runtime, period, views=[name], now=NOW), repeat
            )
            results.append((f"service: {name}", label, first, median, worst))
            print(f"  {label:<10} service {name:<14} {median:.3f} s (worst {worst:.3f})", file=sys.stderr)

    with runtime.database.session() as session:
        from models import User

        if session.query(User).filter_by(username="bench-manager").first() is None:
            create_user(session, username="bench-manager", password=PASSWORD, role="manager", actor="bench")
    with TestClient(create_app(runtime), base_url="http://127.0.0.1") as client:
        login = client.get("/staff/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token, "no CSRF token on the sign-in page"
        signed_in = client.post(
            "/staff/login",
            data={
                "username": "bench-manager",
                "password": PASSWORD,
                "csrf_token": token.group(1),
                "next": "",
            },
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text

        def page(path: str) -> Callable[[], object]:
            def get() -> object:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            return get

        quarter = "2026-Q3"
        for name in VIEWS:
            results.append(
                (
                    f"page: {name}",
                    quarter,
                    *timed(page(f"/staff/reports?period={quarter}&view={name}"), repeat),
                )
            )
        for label in PERIODS[1:]:
            results.append(
                ("page: tsm", label, *timed(page(f"/staff/reports?period={label}&view=tsm"), repeat))
            )
        results.append(
            ("CSV: tsm", quarter, *timed(page(f"/staff/reports/tsm.csv?period={quarter}"), repeat))
        )
        for label in PERIODS[1:]:
            results.append(
                ("board report", label, *timed(page(f"/staff/reports/board?period={label}"), repeat))
            )

    def close_one_then_read() -> object:
        """A manager closes a case (the real service), then reads every report for the year: the
        read recomputes the days that closure touched before it reads the facts."""
        with runtime.database.session() as session:
            item = session.scalars(
                select(Item)
                .where(Item.case_id.is_(None), Item.case_status == "open", Item.type == "complaint")
                .order_by(Item.id.desc())
                .limit(1)
            ).one()
            cases.close(runtime, session, item, actor="bench-manager", outcome="upheld", remedy="apology")
        return build_report(runtime, parse_period("FY2026-27"), now=NOW)

    results.append(("service: every view after closing a case", "FY2026-27", *timed(close_one_then_read, repeat)))
    results.append((REFERENCE, "end", *timed(count_items, repeat)))
    print(f"  reference at the end: {results[-1][3]:.3f} s (load {_load()})", file=sys.stderr)
    runtime.database.dispose()
    return results


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def markdown(
    results: list[Result], counts: dict[str, int], items: int, repeat: int, url: str, load_at_start: str
) -> str:
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs (load average {load_at_start} at the start, "
        f"{_load()} at the end), Python {platform.python_version()}"
    )
    references = [r[3] for r in results if r[0] == REFERENCE]
    reference = statistics.median(references) if references else 0.0
    lines = [
        f"`.venv/bin/python bench/bench_reports.py --items {items} --repeat {repeat}` — {datetime.now(UTC):%Y-%m-%d}, "
        f"{machine}, PostgreSQL on 127.0.0.1 (database {make_url(url).database}).",
        "",
        "Data: "
        + ", ".join(
            f"{counts[k]:,} {k.replace('_', ' ')}"
            for k in ("items", "deadlines", "acknowledgements", "audit_log", "corrections")
            if k in counts
        )
        + ' over three years (October 2023 – September 2026); reports run "now" = 14 October 2026.'
        + (f" Loaded with COPY in {counts['seconds']} s." if "seconds" in counts else ""),
        "",
        "Targets: 1 s for a month or a quarter, 2 s for a financial year and for the board report. Times in "
        f"seconds: the first run (coldest), the median of the other {repeat - 1}, and the slowest of all {repeat}. "
        f"The last column is the median as a multiple of the same-run reference ({REFERENCE.split(': ')[1]}, "
        f"{reference:.3f} s: the median of its medians at the start and the end), a figure that survives load.",
        "",
        "| what | period | first | median | slowest | target | met | × reference |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for what, period, first, median, worst in results:
        target = target_for(what, period)
        verdict = "—" if target is None else ("yes" if worst <= target else "NO")
        shown = "—" if target is None else f"{target:.0f} s"
        ratio = f"{median / reference:.2f}" if reference else "—"
        lines.append(
            f"| {what} | {period} | {first:.3f} | {median:.3f} | {worst:.3f} | {shown} | {verdict} | {ratio} |"
        )
    timed_rows = [r for r in results if target_for(r[0], r[1]) is not None]
    slowest = max(timed_rows, key=lambda r: r[4])
    lines += ["", f"Slowest: {slowest[0]} for {slowest[1]}, {slowest[4]:.3f} s.", ""]
    return "\n".join(lines)


def drop_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
    admin.dispose()


def as_json(results: list[Result], counts: dict[str, int], load_at_start: str) -> dict[str, object]:
    """Every row with its target (None: reported, not judged), for bench/verdicts.py."""
    return {
        "items": counts.get("items", 0),
        "load_average_start_end": [load_at_start, _load()],
        "rows": [
            {"what": what, "period": period, "first_s": round(first, 4), "median_s": round(median, 4),
             "slowest_s": round(worst, 4), "target_s": target_for(what, period)}
            for what, period, first, median, worst in results
        ],
    }


def write_docs(section: str) -> None:
    existing = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(existing):
        updated = pattern.sub(lambda _: section + "\n", existing)
    else:
        updated = existing.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.write_text(updated, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--write-docs", action="store_true", help="write the figures into docs/benchmarks.md")
    parser.add_argument("--json-out", type=Path, help="also write every row and its target here")
    parser.add_argument("--drop-after", action="store_true", help="drop the database at the end")
    options = parser.parse_args()

    load_at_start = _load()
    counts: dict[str, int] = {}
    engine = create_engine(options.url) if options.reuse else None
    if engine is not None:
        from intake.db import upgrade_database

        upgrade_database(engine)  # new report indexes, if any
        with engine.connect() as connection:
            for table in ("items", "deadlines", "acknowledgements", "audit_log", "corrections"):
                counts[table] = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        engine.dispose()
    else:
        print(f"creating {options.url} with {options.items:,} items", file=sys.stderr)
        recreate_database(options.url)
        counts = load(options.url, options.items)
    results = run(options.url, options.repeat)
    section = HEADING + "\n\n" + markdown(results, counts, options.items, options.repeat, options.url, load_at_start)
    print(section)
    if options.write_docs:
        write_docs(section)
    if options.json_out:
        options.json_out.write_text(json.dumps(as_json(results, counts, load_at_start), indent=2))
    if options.drop_after:
        drop_database(options.url)
    if any((target := target_for(what, period)) is not None and worst > target for what, period, _, _, worst in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
