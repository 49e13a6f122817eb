"""Role dependencies declared once for the workspace's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from intake.web.auth import StaffUser, require_role

TriageUser = Annotated[StaffUser, Depends(require_role("triage"))]
ManagerUser = Annotated[StaffUser, Depends(require_role("manager"))]
AdminUser = Annotated[StaffUser, Depends(require_role("admin"))]

# Row ids in a URL: a number the database can hold (64-bit), or a clear 422 — never a driver error.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
