"""Role dependencies declared once for the workspace's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from intake.web.auth import StaffUser, require_role

TriageUser = Annotated[StaffUser, Depends(require_role("triage"))]
ManagerUser = Annotated[StaffUser, Depends(require_role("manager"))]
AdminUser = Annotated[StaffUser, Depends(require_role("admin"))]
