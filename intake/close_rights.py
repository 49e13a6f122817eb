"""Who may close a case: managers and admins any case; triage officers the types the landlord allows.

Which types a triage officer may close is configuration (INTAKE_TRIAGE_MAY_CLOSE, by default
compliments and suggestions): closing a complaint is a decision with an outcome the regulator sees,
so it stays with managers unless a landlord decides otherwise.
"""

from __future__ import annotations

from collections.abc import Collection

from intake.errors import InvalidTransition

ROLES_THAT_CLOSE_ANYTHING = ("manager", "admin")


def may_close(role: str, item_type: str | None, triage_may_close: Collection[str]) -> bool:
    if role in ROLES_THAT_CLOSE_ANYTHING:
        return True
    return role == "triage" and item_type is not None and item_type in triage_may_close


def require_may_close(role: str, item_type: str | None, triage_may_close: Collection[str]) -> None:
    if not may_close(role, item_type, triage_may_close):
        allowed = ", ".join(sorted(triage_may_close)) or "no types"
        kind = (item_type or "unlabelled").replace("_", " ")
        raise InvalidTransition(
            f"a triage officer cannot close a {kind} case (triage officers may close: {allowed}); ask a manager"
        )
