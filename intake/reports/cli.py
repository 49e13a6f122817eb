"""`intake report`: the monitoring reports on the command line, as CSV or JSON.

intake report --period 2026-Q3 --format csv
intake report --period FY2026-27 --format json --view tsm
intake report --period 2026-Q3 --format csv --output reports/    (one file per view)
intake report --period 2026-Q3 --board board.html                 (the print-ready board report)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from intake.errors import SERVICE_ERRORS
from intake.reports.csv import csv_filename, table_to_csv, tables_to_csv
from intake.reports.periods import default_period, parse_period
from intake.reports.service import VIEWS, build_report

FORMATS = ("csv", "json")


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    period: Annotated[
        str | None,
        typer.Option(
            help="2026-07, 2026-Q3, FY2026-27, FY2026-27-Q1, 2026 or 2026-07-01..2026-07-15 "
            "(default: the last complete quarter)"
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="csv or json")] = "csv",  # noqa: A002
    view: Annotated[
        list[str] | None,
        typer.Option("--view", help=f"One of {', '.join(VIEWS)}; repeat for several (default: all)"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write one file per view into this directory instead of printing")
    ] = None,
    board: Annotated[
        Path | None, typer.Option(help="Also write the print-ready board report (HTML) here")
    ] = None,
    homes: Annotated[int | None, typer.Option(help="Number of homes for CH01 (default: the setting)")] = None,
) -> None:
    """Monitoring reports: volumes, categories, times, overdue, outcomes, corrections, TSM CH01/CH02."""
    from intake.runtime import get_runtime

    if format not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}")
    try:
        runtime = get_runtime()
        chosen = parse_period(period) if period else default_period(runtime.clock.now().date())
        tables = build_report(runtime, chosen, views=view or None, homes=homes)
        if board is not None:
            from intake.reports.board import render_board_report

            board.write_text(render_board_report(runtime, chosen, homes=homes), encoding="utf-8")
            typer.echo(f"board report written to {board}", err=True)
    except SERVICE_ERRORS as error:
        _fail(str(error))
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        for table in tables:
            if format == "csv":
                target = output / csv_filename(table)
                target.write_text(table_to_csv(table), encoding="utf-8")
            else:
                target = output / csv_filename(table).replace(".csv", ".json")
                target.write_text(json.dumps(table.to_dict(), indent=2), encoding="utf-8")
            typer.echo(str(target), err=True)
        return
    if format == "json":
        document = {"period": chosen.label, "title": chosen.title, "views": [t.to_dict() for t in tables]}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif len(tables) == 1:
        sys.stdout.write(table_to_csv(tables[0]))
    else:
        sys.stdout.write(tables_to_csv(tables))


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
