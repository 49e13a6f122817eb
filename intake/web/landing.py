"""The front page at `/`: where a resident finds the contact form and staff find the sign-in.

A first-time visitor (or the IT colleague who just ran `make run`) should never meet a bare JSON 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from intake.api.deps import RuntimeDep
from intake.web.auth import current_user
from intake.web.landlord import landlord_details
from intake.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def landing_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return render(
        request,
        "landing.html",
        {"page_title": "Contact your landlord", "landlord": landlord_details(runtime)},
        user=current_user(request),
    )
