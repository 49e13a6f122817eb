"""The data-rights requests end to end, one function per right: used by the CLI and the admin pages alike.

Each function opens a `privacy_requests` row (with its one-month due date), does the work in one
transaction, writes one audit entry holding ids and counts only, and takes the clock as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from intake import audit
from intake.errors import InvalidMessage
from intake.privacy import access, erasure, requests
from intake.privacy.export import build_zip
from intake.privacy.identity import fingerprint, mask
from intake.privacy.subjects import SubjectMatch, SubjectQuery, find_subject
from intake.runtime import Runtime
from models import Item, PrivacyRequest


def look_up(runtime: Runtime, query: SubjectQuery) -> SubjectMatch:
    """Their items and the candidates to confirm, without recording anything (the admin's first step)."""
    with runtime.database.session() as session:
        return find_subject(session, query)


@dataclass
class ExportResult:
    request_id: int
    content: bytes
    counts: dict[str, int]


def export_subject(
    runtime: Runtime, query: SubjectQuery, *, actor: str, now: datetime, confirm: list[int] | None = None
) -> ExportResult:
    with runtime.database.session() as session:
        match = find_subject(session, query)
        item_ids = match.confirmed(confirm)
        request = _open(runtime, session, "export", query, match, item_ids, actor=actor, now=now)
        content, counts = build_zip(session, item_ids=item_ids, contact_ids=match.contact_ids,
                                    request_id=request.id, subject_hint=request.subject_hint, now=now)
        access.record_export(session, actor=actor, request_id=request.id, item_ids=item_ids, now=now)
        requests.finish(request, now=now, outcome=counts)
        audit.record(session, actor=actor, action="privacy_export", request_id=request.id, **counts)
        return ExportResult(request_id=request.id, content=content, counts=counts)


@dataclass
class ErasureResult:
    request_id: int
    refused: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    retrain_needed: bool = False

    @property
    def done(self) -> bool:
        return not self.refused


def erase_subject(
    runtime: Runtime,
    query: SubjectQuery,
    *,
    actor: str,
    now: datetime,
    reason: str,
    confirm: list[int] | None = None,
    override: str | None = None,
) -> ErasureResult:
    """Erase, or refuse with the reasons (an open complaint, a legal hold) unless `override` says why not."""
    if not reason.strip():
        raise InvalidMessage("an erasure needs a reason (for example: the resident asked on 3 March)")
    with runtime.database.session() as session:
        match = find_subject(session, query)
        item_ids = match.confirmed(confirm)
        request = _open(runtime, session, "erase", query, match, item_ids, actor=actor, now=now, reason=reason)
        blockers = erasure.refusals(session, item_ids)
        if blockers and not (override and override.strip()):
            refusal = "; ".join(blockers)
            requests.refuse(request, now=now, refusal=refusal)
            audit.record(session, actor=actor, action="privacy_erasure_refused", request_id=request.id,
                         blockers=len(blockers))
            return ErasureResult(request_id=request.id, refused=blockers)
        counts = erasure.anonymise_items(runtime, session, item_ids, now=now)
        counts.contacts, counts.opt_outs = erasure.erase_contacts(session, match.contact_ids, match.phones)
        counts.rejected_payloads = erasure.erase_rejected_payloads(
            session, match.identifiers, runtime.settings.privacy.marker
        )
        outcome = counts.as_dict() | {"retrain_needed": counts.retrain_needed}
        if blockers:
            outcome |= {"overridden": blockers, "override_reason": override}
        requests.finish(request, now=now, outcome=outcome)
        numbers = {k: v for k, v in counts.as_dict().items() if isinstance(v, int)}
        audit.record(session, actor=actor, action="privacy_erased", request_id=request.id,
                     overridden=bool(blockers), retrain_needed=counts.retrain_needed, **numbers)
        result = ErasureResult(request_id=request.id, counts=outcome, retrain_needed=counts.retrain_needed)
    result.counts["storage_compacted"] = erasure.compact_storage(runtime, erasure.ERASED_TABLES)
    return result


def restrict_subject(
    runtime: Runtime, query: SubjectQuery, *, actor: str, now: datetime, confirm: list[int] | None = None,
    lift: bool = False,
) -> tuple[int, int]:
    """Hide (or show again) their items from everyone but admins; returns (request id, items changed)."""
    with runtime.database.session() as session:
        match = find_subject(session, query)
        item_ids = match.confirmed(confirm)
        kind = "unrestrict" if lift else "restrict"
        request = _open(runtime, session, kind, query, match, item_ids, actor=actor, now=now)
        changed = erasure.set_restriction(session, item_ids, restricted=not lift, now=now)
        requests.finish(request, now=now, outcome={"items": changed})
        audit.record(session, actor=actor, action=f"privacy_{kind}ed", request_id=request.id, items=changed)
        return request.id, changed


def set_legal_hold(runtime: Runtime, item_id: int, *, actor: str, reason: str | None) -> None:
    """Set (reason given) or release (None) a legal hold on an item's case: no erasure, no retention."""
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise InvalidMessage(f"there is no item {item_id}")
        root = session.get(Item, item.case_root_id) or item
        if reason is not None and not reason.strip():
            raise InvalidMessage("a legal hold needs a reason")
        root.legal_hold = reason.strip() if reason else None
        audit.record(session, actor=actor, action="legal_hold_set" if reason else "legal_hold_released",
                     item_id=root.id)


def log_request(
    runtime: Runtime, query: SubjectQuery, *, kind: str, actor: str, now: datetime, received_at: datetime | None = None
) -> int:
    """Record a request as it arrives (by letter, phone, email); its due date runs from `received_at`.

    The export, erasure or restriction that answers it later completes this same record.
    """
    if kind not in requests.KINDS:
        raise InvalidMessage(f"unknown kind of request {kind!r}; one of {', '.join(requests.KINDS)}")
    with runtime.database.session() as session:
        request = requests.open_request(
            session, kind=kind, subject_fingerprint=fingerprint(runtime.settings, query.key),
            subject_hint=mask(query.shown), requested_by=actor, now=received_at or now,
        )
        audit.record(session, actor=actor, action="privacy_request_logged", request_id=request.id, kind=kind)
        return request.id


def _open(
    runtime: Runtime, session: Any, kind: str, query: SubjectQuery, match: SubjectMatch, item_ids: list[int],
    *, actor: str, now: datetime, reason: str | None = None,
) -> PrivacyRequest:
    """The open request of this kind for this person when one was logged, else a new one received now."""
    subject = fingerprint(runtime.settings, query.key)
    logged = requests.open_request_for(session, kind=kind, subject_fingerprint=subject)
    if logged is not None:
        logged.item_ids, logged.contact_ids = list(item_ids), list(match.contact_ids)
        logged.reason = reason or logged.reason
        return logged
    return requests.open_request(
        session,
        kind=kind,
        subject_fingerprint=fingerprint(runtime.settings, query.key),
        subject_hint=mask(query.shown),
        requested_by=actor,
        now=now,
        reason=reason,
        item_ids=item_ids,
        contact_ids=match.contact_ids,
    )
