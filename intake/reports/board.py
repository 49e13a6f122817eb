"""The quarterly board report: every view on one print-ready HTML page (A4, @media print).

The page stands alone — styles inline, charts inline SVG, no script, no external file — so it can be
saved, emailed and printed (or printed to PDF from any browser) offline. Its Content Security Policy
allows exactly its own style block, by hash, and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from intake.formatting import uk_time
from intake.reports import presentation
from intake.reports.charts import render_svg
from intake.reports.periods import Period
from intake.reports.service import build_reports
from intake.reports.tables import Cell, ReportTable
from intake.runtime import Runtime

TEMPLATES = Path(__file__).resolve().parent / "templates"
BOARD_STYLE = (TEMPLATES / "board.css").read_text(encoding="utf-8")
_STYLE_HASH = base64.b64encode(hashlib.sha256(BOARD_STYLE.encode("utf-8")).digest()).decode("ascii")
BOARD_CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
presentation.install(_environment)
_environment.globals["chart_svg"] = render_svg


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    detail: str = ""


def render_board_report(
    runtime: Runtime,
    period: Period,
    *,
    homes: int | None = None,
    now: datetime | None = None,
    prepared_by: str | None = None,
) -> str:
    now = now or runtime.clock.now()
    year_to_date = period.financial_year_to_date()
    wanted: list[tuple[Period, list[str] | None]] = [(period, None)]
    if year_to_date.label != period.label:
        wanted.append((year_to_date, ["tsm"]))
    built = build_reports(runtime, wanted, now=now, homes=homes)
    tables = {table.view: table for table in built[0]}
    tsm_year = built[1][0] if len(built) > 1 else None
    return _environment.get_template("board.html").render(
        style=BOARD_STYLE,
        period=period,
        year_to_date=year_to_date,
        tables=tables,
        tsm_rows=_tsm_rows(tables["tsm"], tsm_year),
        headlines=_headlines(tables),
        landlord=runtime.policy.landlord_name,
        policy=runtime.policy,
        homes=homes or runtime.settings.homes,
        prepared_at=uk_time(now, "%-d %B %Y at %H:%M"),
        prepared_by=prepared_by,
        sections=[_for_the_board(t) for v, t in tables.items() if v != "tsm"],
    )


def _for_the_board(table: ReportTable) -> ReportTable:
    """The board sees the period's totals of the volume table; the page has every week too."""
    if table.view != "volume":
        return table
    return replace(table, rows=tuple(row for row in table.rows if row[0] == "whole period"))


def _tsm_rows(quarter: ReportTable, year: ReportTable | None) -> list[tuple[Cell, ...]]:
    """(measure, description, period result, period count/base, year result, year count/base)."""
    rows: list[tuple[Cell, ...]] = []
    year_records = {r["measure"]: r for r in year.records()} if year else {}
    for record in quarter.records():
        other = year_records.get(str(record["measure"]), record)
        rows.append(
            (
                record["measure"],
                record["description"],
                _result(record),
                f"{record['count']} of {record['base']:,}" if isinstance(record["base"], int) else "",
                _result(other),
                f"{other['count']} of {other['base']:,}" if isinstance(other["base"], int) else "",
            )
        )
    return rows


def _result(record: dict[str, Cell]) -> str:
    value = record["result"]
    if value is None:
        return "no responses"
    unit = "%" if str(record["unit"]).startswith("%") else " per 1,000 homes"
    return f"{value:.1f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _rate(record: dict[str, Cell]) -> str:
    value = record["result"]
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _headlines(tables: dict[str, ReportTable]) -> list[Headline]:
    volume = tables["volume"].totals
    tsm = {r["measure"]: r for r in tables["tsm"].records()}
    corrections = tables["corrections"].totals
    share = corrections.get("share_corrected")
    return [
        Headline(
            "New cases", f"{volume.get('total', 0):,}", f"of which {volume.get('complaint', 0):,} complaints"
        ),
        Headline(
            "Compliments, enquiries, suggestions",
            f"{volume.get('compliment', 0):,} / {volume.get('enquiry', 0):,} / {volume.get('suggestion', 0):,}",
        ),
        Headline(
            "CH01 stage 1",
            _rate(tsm["CH01 stage 1"]),
            f"per 1,000 homes ({tsm['CH01 stage 1']['count']} complaints)",
        ),
        Headline(
            "CH01 stage 2",
            _rate(tsm["CH01 stage 2"]),
            f"per 1,000 homes ({tsm['CH01 stage 2']['count']} complaints)",
        ),
        Headline(
            "CH02 stage 1",
            _result(tsm["CH02 stage 1"]),
            f"{tsm['CH02 stage 1']['count']} of {tsm['CH02 stage 1']['base']} in time",
        ),
        Headline(
            "CH02 stage 2",
            _result(tsm["CH02 stage 2"]),
            f"{tsm['CH02 stage 2']['count']} of {tsm['CH02 stage 2']['base']} in time",
        ),
        Headline(
            "Overdue now",
            f"{tables['overdue'].totals.get('cases', 0):,}",
            f"open cases, as the queues count them ({tables['overdue'].totals.get('overdue', 0):,} deadlines)",
        ),
        Headline(
            "Classifier corrected",
            "–" if not isinstance(share, float) else f"{100 * share:.1f}%",
            f"{corrections.get('corrected', 0)} of {corrections.get('classified', 0)} items staff reviewed",
        ),
    ]
