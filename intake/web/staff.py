"""The staff workspace under /staff: one router made of the session, queue, item and admin pages.

Every POST carries the session's CSRF token (checked here, for all of them); each page states the
role it needs with `require_role` (intake/web/auth.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from intake.web import (
    case_actions,
    privacy_pages,
    replies,
    reply_templates,
    staff_admin,
    staff_items,
    staff_notes,
    staff_queues,
    staff_session,
    staff_sso,
)
from intake.web.csrf import verify_csrf

router = APIRouter(prefix="/staff", tags=["staff workspace"], dependencies=[Depends(verify_csrf)])
for part in (
    staff_session.router,
    staff_sso.router,
    staff_queues.router,
    staff_items.router,
    staff_notes.router,
    case_actions.router,
    staff_admin.router,
    privacy_pages.router,
    replies.router,
    reply_templates.router,
):
    router.include_router(part)
