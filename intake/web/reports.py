"""/staff/reports (pages; the reports themselves are intake/reports/): the monitoring reports in the workspace (managers), their CSV files and the board report.

GET /staff/reports?period=2026-Q3&view=tsm   one view (a chart and a table); tabs for the others
GET /staff/reports?from=2026-07-01&to=…      a custom range of days
GET /staff/reports/<view>.csv?period=…       that view's table as CSV
GET /staff/reports/board?period=…            the print-ready board report (&download=1 to save it)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from intake import formatting
from intake import reports as reports_package
from intake.api.deps import RuntimeDep
from intake.reports import presentation, queries
from intake.reports.board import BOARD_CONTENT_SECURITY_POLICY, render_board_report
from intake.reports.charts import render_svg
from intake.reports.csv import csv_filename, table_to_csv
from intake.reports.errors import InvalidPeriod
from intake.reports.periods import (
    Period,
    custom_period,
    default_period,
    london_day,
    parse_period,
    quarter_of,
    recent_periods,
)
from intake.reports.service import VIEWS, build_report, resolve_view
from intake.runtime import Runtime
from intake.web import csrf
from intake.web.auth import StaffUser
from intake.web.deps import ManagerUser
from intake.web.templating import TEMPLATES_DIR as WORKSPACE_TEMPLATES

# The report pages' own templates and stylesheet live beside the reports they show.
REPORTS_DIR = Path(reports_package.__file__).resolve().parent
REPORT_TEMPLATES = REPORTS_DIR / "templates"
STYLESHEET = REPORTS_DIR / "static" / "reports.css"

DEFAULT_VIEW = "volume"

router = APIRouter(prefix="/staff/reports", tags=["reports"])

_environment = Environment(
    # Our templates first; base.html and its partials come from the workspace.
    loader=ChoiceLoader([FileSystemLoader(REPORT_TEMPLATES), FileSystemLoader(WORKSPACE_TEMPLATES)]),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
formatting.install(_environment)
presentation.install(_environment)
_environment.globals["chart_svg"] = render_svg
_templates = Jinja2Templates(env=_environment)


def opening_period(runtime: Runtime, now: datetime) -> Period:
    """The period reports open on: the last complete quarter when it has items, else the latest
    quarter that has any (a new landlord's first weeks; a quiet mailbox) — never an empty page
    when there is data to show."""
    chosen = default_period(now.date())
    with runtime.database.session() as session:
        latest = queries.latest_received_at(session, now)
        in_chosen = queries.latest_received_at(session, chosen.end - timedelta(microseconds=1))
    if latest is None or (in_chosen is not None and london_day(in_chosen) >= chosen.first_day):
        return chosen
    return quarter_of(london_day(latest))


def chosen_period(
    query: dict[str, str], today: date, *, opening: Period | None = None
) -> tuple[Period, str | None]:
    """The period asked for (a custom range wins), or the opening period and why."""
    try:
        if query.get("from") or query.get("to"):
            first, last = query.get("from", ""), query.get("to", "")
            if not first or not last:
                raise InvalidPeriod("a custom range needs both a first and a last day")
            try:
                return custom_period(date.fromisoformat(first), date.fromisoformat(last)), None
            except ValueError as error:
                raise InvalidPeriod(f"dates must look like 2026-07-01 ({error})") from error
        if query.get("period"):
            return parse_period(query["period"]), None
    except InvalidPeriod as error:
        return opening or default_period(today), str(error)
    return opening or default_period(today), None


@router.get("", response_class=HTMLResponse)
def reports_page(request: Request, runtime: RuntimeDep, user: ManagerUser) -> HTMLResponse:
    now = runtime.clock.now()
    period, error = chosen_period(dict(request.query_params), now.date(), opening=opening_period(runtime, now))
    # One report per page, each under two seconds on a million items; the board report has them all.
    view = request.query_params.get("view") or DEFAULT_VIEW
    if view not in VIEWS:
        error, view = f"there is no report called {view!r}", DEFAULT_VIEW
    tables = build_report(runtime, period, views=[view], now=now)
    return _render(
        request,
        "reports.html",
        {
            "page_title": "Reports",
            "nav": "reports",
            "wide": True,
            "period": period,
            "period_error": error,
            "choices": recent_periods(now.date()),
            "tables": tables,
            "views": VIEWS,
            "one_view": view,
            "query": _period_query(period),
            "homes": runtime.settings.homes,
            "policy": runtime.policy,
            "now": now,
        },
        user=user,
    )


@router.get("/reports.css", include_in_schema=False)
def stylesheet() -> FileResponse:
    return FileResponse(STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/board", response_class=HTMLResponse)
def board_report(request: Request, runtime: RuntimeDep, user: ManagerUser) -> Response:
    now = runtime.clock.now()
    period, error = chosen_period(dict(request.query_params), now.date(), opening=opening_period(runtime, now))
    if error:
        # Plain text, never HTML: the error quotes the query string, which anyone can craft.
        return PlainTextResponse(f"Cannot make the board report: {error}\n", status_code=400)
    html = render_board_report(runtime, period, prepared_by=user.username)
    headers = {"Content-Security-Policy": BOARD_CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}
    if request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="board-report-{_file_label(period)}.html"'
    return HTMLResponse(html, headers=headers)


@router.get("/{view}.csv")
def report_csv(view: str, request: Request, runtime: RuntimeDep, user: ManagerUser) -> Response:
    resolve_view(view)  # an unknown name is a 400 with the known ones listed
    now = runtime.clock.now()
    period, error = chosen_period(dict(request.query_params), now.date(), opening=opening_period(runtime, now))
    if error:
        return Response(f"Cannot make the CSV: {error}\n", status_code=400, media_type="text/plain")
    table = build_report(runtime, period, views=[view])[0]
    return Response(
        # A byte-order mark so spreadsheet programs read "£" and "–" as UTF-8.
        "\ufeff" + table_to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{csv_filename(table)}"',
            "Cache-Control": "no-store",
        },
    )


def _period_query(period: Period) -> str:
    if period.kind == "custom":
        return f"from={period.first_day.isoformat()}&to={period.last_day.isoformat()}"
    return f"period={period.label}"


def _file_label(period: Period) -> str:
    return period.label.replace("..", "_to_")


def _render(request: Request, name: str, context: dict[str, Any], *, user: StaffUser) -> HTMLResponse:
    """As the workspace renders its pages: the CSRF token for the sign-out form, no caching."""
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "csrf_token": csrf.csrf_token(request),
        "errors": {},
        "flash": None,
    }
    values.update(context)
    response = _templates.TemplateResponse(request, name, values)
    csrf.persist(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response
