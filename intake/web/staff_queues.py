"""Queue views: counts per queue, filters (type, category, flag, channel, overdue, due today), search."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from intake.api.deps import RuntimeDep
from intake.web.deps import TriageUser
from intake.web.queue_view import ALL, QueueFilters, due_counts, queue_counts, queue_page
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


@router.get("/queues/{queue}", response_class=HTMLResponse)
def one_queue(queue: str, request: Request, runtime: RuntimeDep, user: TriageUser) -> HTMLResponse:
    return _queue(request, runtime, user, queue)


def _queue(request: Request, runtime: RuntimeDep, user: TriageUser, queue: str) -> HTMLResponse:
    filters = QueueFilters.from_query(queue, dict(request.query_params))
    now = runtime.clock.now()
    with runtime.database.session() as session:
        counts = queue_counts(session)
        due = due_counts(session, now=now)
        page = queue_page(session, filters, now=now)
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
