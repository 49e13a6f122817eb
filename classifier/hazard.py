"""Hazard state: is a hazard the message mentions live, resolved (fixed, past, praised) or absent?

A hazard reported as already fixed or being praised ("thank you for getting my mould treated", "the
leak you fixed on Monday has stayed dry") is recorded on the item but is not an emergency and starts
no Awaab's Law clock (triage_rules.deadlines skips those deadlines unless the state is live).

Safety first: a hazard is `resolved` only when a resolved cue fired (triage_rules/rules/
hazard_state.yaml) — or, for damp and mould, the message is a compliment — AND no live cue did
("it was fixed but it's back", "still leaking", "but now…"). Anything else with a hazard is live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from triage_rules.hits import RuleHit
from triage_rules.rules import hazard_states_from, hazards_from

LIVE = "live"
RESOLVED = "resolved"
NONE = "none"
URGENT_SAFETY = "urgent_safety"
# Urgent rules about a PERSON, not the home: a repair being fixed says nothing about them.
PERSON_RULES = frozenset({"urgent_safety.threat_of_harm", "urgent_safety.welfare_concern"})


@dataclass(frozen=True)
class HazardState:
    state: str  # live | resolved | none
    reason: str | None  # plain words for staff: why the state is what it is
    drop_flags: frozenset[str] = frozenset()  # flags a resolved hazard takes off (urgent_safety)


def hazard_state(hits: Sequence[RuleHit], flags: Iterable[str], item_type: str | None) -> HazardState:
    flag_set = set(flags)
    hazards = hazards_from(hits)
    urgent = URGENT_SAFETY in flag_set
    if not hazards and not urgent:
        return HazardState(NONE, None)
    cues = hazard_states_from(hits)
    resolved_cue = next((hit.matched for hit in hits if hit.effect == "hazard_state" and hit.value == RESOLVED), None)
    live_cue = next((hit.matched for hit in hits if hit.effect == "hazard_state" and hit.value == LIVE), None)
    named = ", ".join([*hazards, *([URGENT_SAFETY] if urgent else [])])
    if LIVE in cues:
        return HazardState(LIVE, f"{named}: live — the message says it is still there (\"{live_cue}\")")
    about_a_person = "safeguarding" in flag_set or any(hit.rule in PERSON_RULES for hit in hits)
    if RESOLVED in cues and not about_a_person:
        return HazardState(
            RESOLVED,
            f"{named}: resolved — the message says it has been dealt with (\"{resolved_cue}\"), so no "
            "Awaab's Law deadline starts and it is not an emergency",
            frozenset({URGENT_SAFETY}),
        )
    if item_type == "compliment" and not urgent:
        return HazardState(
            RESOLVED,
            f"{named}: resolved — mentioned in a compliment with nothing saying it is still there, so no "
            "Awaab's Law deadline starts",
        )
    return HazardState(LIVE, f"{named}: live — reported with nothing saying it has been dealt with")
