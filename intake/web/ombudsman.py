"""The Housing Ombudsman signposting reminder staff see at each stage of a case."""

from __future__ import annotations

from dataclasses import dataclass

from intake.runtime import Runtime

OMBUDSMAN_CONTACT = "Housing Ombudsman Service: 0300 111 3000, info@housing-ombudsman.org.uk, www.housing-ombudsman.org.uk"


@dataclass(frozen=True)
class Reminder:
    stage_name: str | None
    text: str
    final: bool


def reminder_for(runtime: Runtime, item_type: str | None, stage: str | None) -> Reminder:
    if item_type != "complaint" or stage is None:
        return Reminder(
            None,
            "If the resident says they are unhappy with our service, correct the type to complaint: "
            "it does not need the word \u201ccomplaint\u201d. Residents can ask the Housing Ombudsman for help at any time.",
            final=False,
        )
    try:
        from triage_rules.deadlines import next_stage

        name = runtime.policy.stage(stage).name
        final = next_stage(runtime.policy, stage) is None
    except Exception:  # the policy could not be read: still remind, without the stage's name
        name, final = stage.replace("_", " "), False
    if final:
        text = (
            "This is the final stage of our procedure. The response must tell the resident they can now refer "
            f"their complaint to the Housing Ombudsman, and how. {OMBUDSMAN_CONTACT}."
        )
    else:
        text = (
            "The response at this stage must explain how to escalate to the next stage if the resident is "
            "still unhappy, and that they can contact the Housing Ombudsman for help at any time. "
            f"{OMBUDSMAN_CONTACT}."
        )
    return Reminder(name, text, final=final)
