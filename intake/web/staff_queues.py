"""Queue views: counts per queue, filters (type, category, flag, channel, overdue, due today), search."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake import audit
from intake.api.deps import RuntimeDep
from intake.bulk_actions import apply_bulk
from intake.errors import InvalidMessage
from intake.privacy import access
from intake.users import list_users
from intake.web.deps import TriageUser
from intake.web.flash import set_flash
from intake.web.list_export import cases_as_csv
from intake.web.queue_view import (
    ALL,
    QueueFilters,
    assignment_counts,
    due_counts,
    junk_per_day,
    queue_counts,
    queue_page,
    queue_rows,
)
from intake.web.queue_walk import came_from
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
    "not_for_triage": "Not for triage (junk)",
}
QUEUE_ORDER = [ALL, "triage_review", "emergency", "complaints", "formal_enquiries", "service_requests",
               "enquiries", "compliments", "suggestions"]


@router.get("/queues", response_class=HTMLResponse)
def all_queues(request: Request, runtime: RuntimeDep, user: TriageUser) -> HTMLResponse:
    return _queue(request, runtime, user, ALL)


OUTCOMES_FOR_A_BATCH = {
    "no_further_action": "No further action needed",
    "resolved": "Resolved (not a complaint)",
    "withdrawn": "Withdrawn by the resident",
}


@router.post("/queues/bulk")
async def bulk_action(request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    """The action chosen above a queue's table, applied to the ticked cases; back to the same list."""
    form = await request.form()
    back = came_from(str(form.get("from") or "")) or "/staff/queues"
    ids = [int(v) for v in form.getlist("item_ids") if isinstance(v, str) and v.isdigit() and len(v) < 12]
    action = str(form.get("action") or "")[:20]
    value = str(form.get(f"value_{action}") or "")[:120]
    try:
        with runtime.database.session() as session:
            staff = {u.username for u in list_users(session) if u.active}
            outcome = apply_bulk(
                runtime, session, item_ids=ids, action=action, value=value, actor=user.username,
                role=user.role, staff=staff, now=runtime.clock.now(),
            )
    except InvalidMessage as refusal:
        message = str(refusal)
        response = RedirectResponse(back, status_code=303)
        set_flash(request, response, "Nothing was changed: " + message + ".")
        return response
    message = f"{len(outcome.done)} {'case' if len(outcome.done) == 1 else 'cases'} done"
    if outcome.refused:
        message += f"; {len(outcome.refused)} not changed: " + "; ".join(
            f"{reference} ({why})" for reference, why in outcome.refused[:10]
        )
    response = RedirectResponse(back, status_code=303)
    set_flash(request, response, message + ".")
    return response


@router.get("/queues.csv")
def export_all_queues(request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    return _export(request, runtime, user, ALL)


@router.get("/queues/{queue}.csv")
def export_queue(queue: str, request: Request, runtime: RuntimeDep, user: TriageUser) -> Response:
    return _export(request, runtime, user, queue)


def _export(request: Request, runtime: RuntimeDep, user: TriageUser, queue: str) -> Response:
    """The whole list this view shows (every page), as CSV; the export itself is audited."""
    filters = QueueFilters.from_query(queue, dict(request.query_params))
    now = runtime.clock.now()
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
    now = runtime.clock.now()
    with runtime.database.session() as session:
        counts = queue_counts(session)
        due = due_counts(session, now=now)
        assigned = assignment_counts(session, username=user.username)
        junk_days = junk_per_day(session, now=now)
        page = queue_page(session, filters, now=now, username=user.username, include_restricted=user.role == "admin")
        staff = [(u.username, u.full_name or u.username) for u in list_users(session) if u.active]
        session.expunge_all()
        if filters.search:  # the access trail: who searched, and what they were shown (never the words)
            access.record_search(session, runtime.settings, actor=user.username, term=filters.search,
                                 found=[item.id for item in page.items])
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
            "junk_days": junk_days,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "batch_outcomes": OUTCOMES_FOR_A_BATCH,
            "staff": staff,
            # each row remembers this view, so Back and "save and next" return to it
            "from_query": urlencode({"from": request.url.path + (f"?{request.url.query}" if request.url.query else "")}),
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
