"""Queue views: counts per queue, filters (type, category, flag, channel, overdue, due today), search."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from intake import audit
from intake.api.deps import RuntimeDep
from intake.web.deps import TriageUser
from intake.web.list_export import cases_as_csv
from intake.web.queue_view import (
    ALL,
    QueueFilters,
    assignment_counts,
    due_counts,
    queue_counts,
    queue_page,
    queue_rows,
)
from intake.web.templating import render
from triage_rules.taxonomy import CATEGORIES, CHANNELS, FLAGS, QUEUES, TYPES

router = APIRouter()

QUEUE_NAMES = {
    ALL: "All open cases",
    "triage_review": "Needs a person to check",
    "emergency": "Emergency",
    "complaints": "Complaints",
    "formal_enquiries": "Formal enquiries (MPs, councillors)",
    "service_requests": "Service requests",
    "enquiries": "Enquiries",
    "compliments": "Compliments",
    "suggestions": "Suggestions",
}
QUEUE_ORDER = [ALL, "triage_review", "emergency", "complaints", "formal_enquiries", "service_requests",
               "enquiries", "compliments", "suggestions"]


@router.get("/queues", response_class=HTMLResponse)
def all_queues(request: Request, runtime: RuntimeDep, user: TriageUser) -> HTMLResponse:
    return _queue(request, runtime, user, ALL)


@router.get("/queues.csv")
def export_all_queues(request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    return _export(request, runtime, user, ALL)


@router.get("/queues/{queue}.csv")
def export_queue(queue: str, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    return _export(request, runtime, user, queue)


def _export(request: Request, runtime: RuntimeDep, user: TriageUser, queue: str) -> Response:
    """The whole list this view shows (every page), as CSV; the export itself is audited."""
    filters = QueueFilters.from_query(queue, dict(request.query_params))
    now = datetime.now(UTC)
    with runtime.database.session() as session:
        items = queue_rows(session, filters, now=now, username=user.username)
        content = cases_as_csv(items, now=now)
        audit.record(
            session,
            actor=user.username,
            action="case_list_exported",
            queue=filters.queue,
            filters=filters.query_string(),
            rows=len(items),
        )
    name = f"{filters.queue}-{'-'.join(filter(None, (filters.due, filters.assigned, filters.status)))}"
    return Response(
        content.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="cases-{name.strip("-")}-{now:%Y-%m-%d}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/queues/{queue}", response_class=HTMLResponse)
def one_queue(queue: str, request: Request, runtime: RuntimeDep, user: TriageUser) -> HTMLResponse:
    return _queue(request, runtime, user, queue)


def _queue(request: Request, runtime: RuntimeDep, user: TriageUser, queue: str) -> HTMLResponse:
    filters = QueueFilters.from_query(queue, dict(request.query_params))
    now = datetime.now(UTC)
    with runtime.database.session() as session:
        counts = queue_counts(session)
        due = due_counts(session, now=now)
        assigned = assignment_counts(session, username=user.username)
        page = queue_page(session, filters, now=now, username=user.username)
        session.expunge_all()
    return render(
        request,
        "queue.html",
        {
            "page_title": QUEUE_NAMES.get(filters.queue, filters.queue),
            "nav": "queues",
            "wide": True,
            "filters": filters,
            "counts": counts,
            "due": due,
            "assigned": assigned,
            "export_url": f"/staff/queues{'' if filters.queue == ALL else '/' + filters.queue}.csv?"
            + filters.query_string(page=1),
            "page": page,
            "queue_names": QUEUE_NAMES,
            "queue_order": [q for q in QUEUE_ORDER if q == ALL or q in QUEUES],
            "types": TYPES,
            "categories": CATEGORIES,
            "flags": FLAGS,
            "channels": CHANNELS,
            "now": now,
        },
        user=user,
    )
