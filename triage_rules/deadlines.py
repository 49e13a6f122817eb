"""Deadlines from a policy profile: pure functions the pipeline calls on every stage change.

`compute_deadlines` returns what is due for an item now — the policy's targets for its type or its
complaint stage, an extended response date, the window the resident has to ask for the next stage,
and the statutory hazard deadlines of Awaab's Law, which apply whatever the item's type. Each
deadline says in plain words why it falls when it does (`basis`), naming the clause.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from triage_rules.policies import Extension, PolicyProfile, Stage, Target
from triage_rules.working_days import (
    LONDON,
    WorkingCalendar,
    add_calendar_days,
    add_months,
    end_of_day,
    london_date,
)

HAZARD_POLICY = "awaabs-law"
AWAABS_LAW = "Awaab's Law (Hazards in Social Housing (Prescribed Requirements) (England) Regulations 2025)"
MAKE_SAFE_HOURS = 24  # emergency hazards: investigate and make safe within 24 hours
HAZARD_INVESTIGATION_WORKING_DAYS = 10  # significant hazards such as damp and mould
DAMP_AND_MOULD = "damp_and_mould"
URGENT_SAFETY = "urgent_safety"

# How a deadline kind reads in a basis: "stage 1 response within 10 working days of receipt".
KIND_PHRASES = {
    "acknowledge": "acknowledgement",
    "respond": "response",
    "arrange_meeting": "face-to-face meeting arranged",
    "notify_review_meeting": "review meeting notified",
    "hold_hearing": "panel hearing held",
}


@dataclass(frozen=True)
class ComputedDeadline:
    kind: str  # acknowledge, respond, holding_response, escalation_request_by, make_safe, investigate_hazard, ...
    stage: str | None
    due_at: datetime  # aware, UTC
    basis: str  # plain English, naming the clause it comes from
    policy: str  # the profile's name, or "awaabs-law" for hazard deadlines


def initial_stage(policy: PolicyProfile, *, item_type: str | None, flags: Iterable[str]) -> str | None:
    """The first formal stage of a complaint (a special route may start later); None for other types."""
    if item_type != "complaint":
        return None
    flagset = frozenset(flags)
    for route in policy.special_routes:
        if route.start_stage is not None and route.applies(item_type, flagset):
            return route.start_stage
    return policy.formal_stages[0].id


def next_stage(policy: PolicyProfile, stage: str | None) -> str | None:
    """The stage after `stage`; None after the last one (the next step is the Housing Ombudsman)."""
    if stage is None:
        return policy.formal_stages[0].id
    ids = [s.id for s in policy.stages]
    if stage not in ids:
        raise ValueError(f"policy {policy.name!r} has no stage {stage!r} (it has {', '.join(ids)})")
    position = ids.index(stage)
    return ids[position + 1] if position + 1 < len(ids) else None


def compute_deadlines(
    policy: PolicyProfile,
    *,
    item_type: str | None,
    stage: str | None,
    received_at: datetime,
    stage_started_at: datetime | None = None,
    acknowledged_at: datetime | None = None,
    flags: Sequence[str] = (),
    hazards: Sequence[str] = (),
    extended_until: datetime | None = None,
    calendar: WorkingCalendar,
    responded_at: datetime | None = None,
    hazard_state: str = "live",
) -> list[ComputedDeadline]:
    """Everything due for one item now, earliest first.

    Complaints follow their stage (`stage` None → the policy's initial stage), counted from
    `stage_started_at` (the complaint or escalation request's receipt). `acknowledged_at` and
    `responded_at` count only when they belong to the current stage (not earlier than its start).
    `extended_until` replaces the current response date, within the policy's extension limit
    (beyond it → ValueError saying the latest allowed date). `hazard_state` other than "live" (a
    hazard reported as fixed, past or praised) starts no Awaab's Law deadline.
    """
    _require_aware(received_at, "received_at")
    flagset = frozenset(flags)
    deadlines = (
        hazard_deadlines(received_at=received_at, flags=flagset, hazards=hazards, calendar=calendar)
        if hazard_state == "live"
        else []
    )
    if item_type == "complaint":
        stage_id = stage or initial_stage(policy, item_type=item_type, flags=flagset)
        assert stage_id is not None
        deadlines += _stage_deadlines(
            policy,
            _stage_of(policy, stage_id),
            start=stage_started_at or received_at,
            acknowledged_at=acknowledged_at,
            responded_at=responded_at,
            extended_until=extended_until,
            calendar=calendar,
        )
    else:
        deadlines += _item_deadlines(
            policy,
            item_type=item_type,
            flags=flagset,
            start=received_at,
            acknowledged_at=acknowledged_at,
            extended_until=extended_until,
            calendar=calendar,
        )
    return sorted(deadlines, key=lambda deadline: deadline.due_at)


def hazard_deadlines(
    *, received_at: datetime, flags: frozenset[str], hazards: Sequence[str], calendar: WorkingCalendar
) -> list[ComputedDeadline]:
    """Awaab's Law deadlines, whatever the item's type: shown beside the policy's own."""
    where = (
        ""
        if calendar.nation == "england"
        else f" (the Regulations apply in England; applied in {calendar.nation.replace('_', ' ').title()} as good practice)"
    )
    found: list[ComputedDeadline] = []
    if URGENT_SAFETY in flags or URGENT_SAFETY in hazards:
        found.append(
            ComputedDeadline(
                kind="make_safe",
                stage=None,
                due_at=received_at.astimezone(UTC) + timedelta(hours=MAKE_SAFE_HOURS),
                basis=f"{AWAABS_LAW}: an emergency hazard must be investigated and made safe within "
                f"{MAKE_SAFE_HOURS} hours of receipt{where}",
                policy=HAZARD_POLICY,
            )
        )
    if DAMP_AND_MOULD in hazards:
        found.append(
            ComputedDeadline(
                kind="investigate_hazard",
                stage=None,
                due_at=calendar.add_working_days(received_at, HAZARD_INVESTIGATION_WORKING_DAYS),
                basis=f"{AWAABS_LAW}: a report of damp and mould must be investigated within "
                f"{HAZARD_INVESTIGATION_WORKING_DAYS} working days of receipt{where}",
                policy=HAZARD_POLICY,
            )
        )
    return found


# --- complaints ----------------------------------------------------------------------------


def _stage_of(policy: PolicyProfile, stage_id: str) -> Stage:
    for stage in policy.stages:
        if stage.id == stage_id:
            return stage
    known = ", ".join(s.id for s in policy.stages)
    raise ValueError(f"policy {policy.name!r} has no stage {stage_id!r} (it has {known})")


def _stage_deadlines(
    policy: PolicyProfile,
    stage: Stage,
    *,
    start: datetime,
    acknowledged_at: datetime | None,
    responded_at: datetime | None,
    extended_until: datetime | None,
    calendar: WorkingCalendar,
) -> list[ComputedDeadline]:
    label = _stage_words(stage.id)
    found = _targets_due(
        policy,
        stage.deadlines,
        stage_id=stage.id,
        label=label,
        start=start,
        acknowledged_at=acknowledged_at,
        extended_until=extended_until,
        extension=stage.extension,
        calendar=calendar,
    )
    window = stage.escalation_request
    if window is not None:
        responded = _belongs(responded_at, start)
        respond = next((d for d in found if d.kind == "respond"), None)
        if responded is not None or respond is not None:
            anchor = responded or respond.due_at  # type: ignore[union-attr]
            counted = (
                "the response"
                if responded is not None
                else "the response date (it counts from when the response is actually sent)"
            )
            following = next_stage(policy, stage.id)
            asks_for = (
                f"{_stage_words(following)} ({_stage_of(policy, following).name})"
                if following
                else "the next step"
            )
            found.append(
                ComputedDeadline(
                    kind="escalation_request_by",
                    stage=stage.id,
                    due_at=_add(window, anchor, calendar),
                    basis=f"{policy.label}, {window.clause}: after the {label} response the resident may ask "
                    f"for {asks_for} within {window.within} {_unit_words(window)} of {counted}",
                    policy=policy.name,
                )
            )
    return found


# --- other item types ----------------------------------------------------------------------


def _item_deadlines(
    policy: PolicyProfile,
    *,
    item_type: str | None,
    flags: frozenset[str],
    start: datetime,
    acknowledged_at: datetime | None,
    extended_until: datetime | None,
    calendar: WorkingCalendar,
) -> list[ComputedDeadline]:
    route = next(
        (r for r in policy.special_routes if r.deadlines and r.applies(item_type, flags)),
        None,
    )
    if route is not None:
        return _targets_due(
            policy,
            route.deadlines,
            stage_id=None,
            label=route.name.replace("_", " "),
            start=start,
            acknowledged_at=acknowledged_at,
            extended_until=extended_until,
            extension=route.extension,
            calendar=calendar,
        )
    if item_type is None:
        return _unconfirmed_type_deadlines(policy, start=start, calendar=calendar)
    targets = policy.type_targets(item_type)
    if targets is None or not targets.deadlines:
        if extended_until is not None:
            raise ValueError(
                f"{policy.label} sets no response date for a {item_type.replace('_', ' ')} to extend"
            )
        return []
    return _targets_due(
        policy,
        targets.deadlines,
        stage_id=None,
        label=item_type.replace("_", " "),
        start=start,
        acknowledged_at=acknowledged_at,
        extended_until=extended_until,
        extension=targets.extension,
        calendar=calendar,
    )


def _unconfirmed_type_deadlines(
    policy: PolicyProfile, *, start: datetime, calendar: WorkingCalendar
) -> list[ComputedDeadline]:
    """A type not yet confirmed by a person: the policy's earliest acknowledgement target, to be safe."""
    candidates: list[tuple[datetime, Target]] = []
    sources = [t.deadlines for t in policy.types] + [policy.formal_stages[0].deadlines]
    for deadlines in sources:
        target = dict(deadlines).get("acknowledge")
        if target is not None and target.counts_from == "receipt":
            candidates.append((_add(target, start, calendar), target))
    if not candidates:
        return []
    due_at, target = min(candidates, key=lambda pair: pair[0])
    return [
        ComputedDeadline(
            kind="acknowledge",
            stage=None,
            due_at=due_at,
            basis=f"{policy.label}, {target.clause}: type not yet confirmed, so the policy's earliest "
            f"acknowledgement target applies — within {target.describe()}",
            policy=policy.name,
        )
    ]


# --- shared --------------------------------------------------------------------------------


def _targets_due(
    policy: PolicyProfile,
    targets: tuple[tuple[str, Target], ...],
    *,
    stage_id: str | None,
    label: str,
    start: datetime,
    acknowledged_at: datetime | None,
    extended_until: datetime | None,
    extension: Extension | None,
    calendar: WorkingCalendar,
) -> list[ComputedDeadline]:
    """Each (kind, target) as a dated deadline; later targets may count from earlier ones."""
    acknowledged = _belongs(acknowledged_at, start)
    computed: dict[str, datetime] = {}
    found: list[ComputedDeadline] = []
    for kind, target in targets:
        caveat = ""
        if target.counts_from == "receipt":
            anchor = start
        elif target.counts_from == "acknowledgement":
            anchor = acknowledged or start
            if acknowledged is None:
                caveat = " (not yet acknowledged: counted from receipt, the earliest it can be)"
            elif "acknowledge" in computed and acknowledged > computed["acknowledge"]:
                # A late acknowledgement does not move the response later (as TSM CH02 counts it).
                anchor = computed["acknowledge"]
                caveat = " (acknowledged late: counted from the date the acknowledgement was due)"
        elif target.counts_from in computed:
            anchor = computed[target.counts_from]
            caveat = " (until its date is known, counted from the latest date it may be)"
        else:
            continue  # counts from a response not yet sent
        due_at = _add(target, anchor, calendar)
        basis = (
            f"{policy.label}, {target.clause}: {label} {KIND_PHRASES.get(kind, kind.replace('_', ' '))} "
            f"within {target.describe()}{caveat}"
        )
        if kind == "respond" and extended_until is not None:
            found += _extended(policy, stage_id, label, due_at, extended_until, extension, calendar, basis)
            computed[kind] = found[-1].due_at
            continue
        computed[kind] = due_at
        found.append(
            ComputedDeadline(kind=kind, stage=stage_id, due_at=due_at, basis=basis, policy=policy.name)
        )
    if extended_until is not None and "respond" not in computed:
        raise ValueError(f"{policy.label} sets no response date for {label} to extend")
    return found


def _extended(
    policy: PolicyProfile,
    stage_id: str | None,
    label: str,
    original: datetime,
    extended_until: datetime,
    extension: Extension | None,
    calendar: WorkingCalendar,
    original_basis: str,
) -> list[ComputedDeadline]:
    """The extended response date (checked against the limit) and the holding reply due by the original."""
    _require_aware(extended_until, "extended_until")
    new_due = end_of_day(london_date(extended_until))
    if new_due <= original:
        raise ValueError(
            f"an extension must move the response date later than {_words(original)}; "
            f"{_words(new_due)} is not later"
        )
    if extension is not None and extension.max_within is not None:
        limit = _add(
            Target(extension.max_within, extension.unit, "response", extension.clause, extension.source),
            original,
            calendar,
        )
        if new_due > limit:
            raise ValueError(
                f"{policy.label}, {extension.clause} allows an extension of at most {extension.max_within} "
                f"{extension.unit.replace('_', ' ')} beyond {_words(original)}, so the latest date is "
                f"{_words(limit)}; {_words(new_due)} is beyond it"
            )
        allowance = (
            f"{extension.clause} allows up to {extension.max_within} {extension.unit.replace('_', ' ')}"
        )
    elif extension is not None:
        allowance = f"{extension.clause}: a new date agreed with the resident, no limit set"
    else:
        allowance = "the policy sets no extension limit"
    return [
        ComputedDeadline(
            kind="holding_response",
            stage=stage_id,
            due_at=original,
            basis=f"{original_basis} — tell the resident the new date and the reason by then",
            policy=policy.name,
        ),
        ComputedDeadline(
            kind="respond",
            stage=stage_id,
            due_at=new_due,
            basis=f"{policy.label}: {label} response extended from {_words(original)} to "
            f"{_words(new_due)} ({allowance})",
            policy=policy.name,
        ),
    ]


def _add(target: Target, anchor: datetime, calendar: WorkingCalendar) -> datetime:
    if target.unit == "working_days":
        return calendar.add_working_days(anchor, target.within)
    if target.unit == "calendar_days":
        return add_calendar_days(anchor, target.within)
    if target.unit == "months":
        return add_months(anchor, target.within)
    if target.unit == "hours":
        return anchor.astimezone(UTC) + timedelta(hours=target.within)
    raise ValueError(f"unknown unit {target.unit!r}")


def _belongs(moment: datetime | None, stage_start: datetime) -> datetime | None:
    """`moment` if it happened in this stage (a stage-1 acknowledgement says nothing about stage 2)."""
    if moment is None:
        return None
    _require_aware(moment, "a stage event")
    return moment if moment >= stage_start else None


def _stage_words(stage_id: str) -> str:
    """'stage_1' → 'stage 1'; 'stage_0' → 'stage 0 (informal)'."""
    words = stage_id.replace("_", " ")
    return f"{words} (informal)" if stage_id == "stage_0" else words


def _unit_words(target: Target) -> str:
    return target.describe().split(" of ")[0].split(" ", 1)[1]


def _words(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone)")
