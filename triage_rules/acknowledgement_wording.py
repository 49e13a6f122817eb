"""Acknowledgements in plain English, rendered from Jinja2 templates per channel and item type.

The wording lives in `templates/acknowledgement/` (one template per type and channel); this module
only gathers what the templates may say: the reference, the dates (in words, Europe/London), the
landlord's contact route, and which warnings apply. The resident's own words are never passed to a
template, so nothing they wrote is echoed back.

Email bodies are written once and rendered twice: as plain text, and as HTML with autoescaping
(the same template under an HTML layout). SMS acknowledgements must fit in two segments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from triage_rules.deadlines import ComputedDeadline, initial_stage, next_stage
from triage_rules.policies import PolicyProfile
from triage_rules.working_days import END_OF_DAY, LONDON

TEMPLATE_DIR = Path(__file__).with_name("templates")
CHANNELS = ("email", "sms")
PURPOSES = ("received", "complaint")  # plus "stage_N" (escalated) and "extension_N" (response date moved)
HOUSING_OMBUDSMAN_PHONE = "0300 111 3000"
HOUSING_OMBUDSMAN_WEBSITE = "housing-ombudsman.org.uk"
GAS_EMERGENCY_PHONE = "0800 111 999"
# The national helplines a safeguarding acknowledgement gives (free, 24 hours).
DOMESTIC_ABUSE_HELPLINE_PHONE = "0808 2000 247"  # National Domestic Abuse Helpline (Refuge)
SAMARITANS_PHONE = "116 123"
MAX_SMS_SEGMENTS = 2

# GSM 03.38: the basic character set (one septet each) and the extension table (two: escape + char).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
GSM7 = frozenset(GSM7_BASIC | GSM7_EXTENSION)


@dataclass(frozen=True)
class RenderedAcknowledgement:
    subject: str  # "" for SMS
    text: str
    html: str | None  # None for SMS


def sms_segments(text: str) -> int:
    """How many SMS segments `text` takes: GSM-7 160/153 per segment, else UCS-2 70/67."""
    # Over the text's distinct characters, not each character: every acknowledgement is counted
    # as it is rendered (a worker's profile had the per-character loops at 2.7 % of its CPU).
    characters = set(text)
    if characters <= GSM7:
        septets = len(text) + sum(text.count(char) for char in characters & GSM7_EXTENSION)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2  # characters outside the BMP take two units
    return 1 if units <= 70 else math.ceil(units / 67)


def render_acknowledgement(
    *,
    channel: str,
    item_type: str | None,
    reference: str,
    flags: Sequence[str],
    deadlines: Sequence[ComputedDeadline],
    policy: PolicyProfile,
    recipient_name: str | None,
    purpose: str = "received",
    stage: str | None = None,
    original_subject: str | None = None,
    now: datetime | None = None,
    received_at: datetime | None = None,
    extension_reason: str | None = None,
) -> RenderedAcknowledgement:
    """The acknowledgement for one item. `original_subject` is accepted but never echoed (it is the
    resident's own text); replies thread by the provider's In-Reply-To header instead.

    `now` is when the letter goes: a policy date already past is never promised — the letter says
    plainly which date the policy set, counted from when the message was received, and that it has
    passed. `extension_reason` is the reason given to the resident in an extension letter."""
    if channel not in CHANNELS:
        raise ValueError(
            f"no acknowledgement template for channel {channel!r}: choose one of {', '.join(CHANNELS)}"
        )
    if purpose not in PURPOSES and not re.fullmatch(r"(stage|extension)_\d+", purpose):
        raise ValueError(
            f"unknown acknowledgement purpose {purpose!r}: use received, complaint, stage_N or extension_N"
        )
    context = _context(
        item_type=item_type,
        reference=reference,
        flags=frozenset(flags),
        deadlines=deadlines,
        policy=policy,
        recipient_name=recipient_name,
        purpose=purpose,
        stage=stage,
        now=now,
        received_at=received_at,
        extension_reason=extension_reason,
    )
    template = f"acknowledgement/{channel}/{_template_name(context, channel)}.j2"
    if channel == "sms":
        text = _render_sms(template, context)
        return RenderedAcknowledgement(subject="", text=text, html=None)
    text = _tidy_text(
        _environment(html=False)
        .get_template(template)
        .render(
            **context, layout="acknowledgement/email/layout.txt.j2", macros="acknowledgement/email/_text.j2"
        )
    )
    html = (
        _environment(html=True)
        .get_template(template)
        .render(
            **context, layout="acknowledgement/email/layout.html.j2", macros="acknowledgement/email/_html.j2"
        )
    )
    return RenderedAcknowledgement(subject=_subject(context), text=text, html=html)


# --- what the templates may say ------------------------------------------------------------


ITEM_WORDS = {
    "complaint": "complaint",
    "service_request": "request",
    "enquiry": "enquiry",
    "compliment": "compliment",
    "suggestion": "suggestion",
    None: "message",
}


def _context(
    *,
    item_type: str | None,
    reference: str,
    flags: frozenset[str],
    deadlines: Sequence[ComputedDeadline],
    policy: PolicyProfile,
    recipient_name: str | None,
    purpose: str,
    stage: str | None,
    now: datetime | None = None,
    received_at: datetime | None = None,
    extension_reason: str | None = None,
) -> dict[str, Any]:
    if purpose.startswith("extension_") and item_type != "complaint":
        pass  # an extension letter keeps the item's own word (a request, an enquiry)
    elif purpose == "complaint" or purpose.startswith("stage_") or purpose.startswith("extension_"):
        item_type = "complaint"
    if purpose.startswith("stage_"):
        stage = purpose
    if item_type == "complaint" and stage is None:
        stage = next((d.stage for d in deadlines if d.stage), None) or initial_stage(
            policy, item_type=item_type, flags=flags
        )
    # A date already past is never promised: it goes to `passed`, said plainly, instead.
    passed = [d for d in deadlines if now is not None and d.due_at < now and d.kind in PASSED_WORDS]
    current = [d for d in deadlines if d.stage in (stage, None) and d not in passed]

    def due(kind: str) -> str | None:
        found = [d.due_at for d in current if d.kind == kind]
        return date_in_words(min(found)) if found else None

    make_safe = [d.due_at for d in current if d.kind == "make_safe"]
    following = next_stage(policy, stage) if item_type == "complaint" and stage else None
    return {
        "landlord": policy.landlord_name,
        "contact_short": policy.short_name,
        "contact": policy.contact,
        "reference": reference,
        "item_word": ITEM_WORDS.get(item_type, "message"),
        "item_type": item_type,
        "purpose": purpose,
        "stage_words": _stage_words(stage),
        "next_stage_words": _stage_words(following),
        "formal": "designated_person" in flags,
        "greeting_name": _clean_name(recipient_name),
        # Safety first in every letter on the case; only an extension letter is about dates alone.
        "urgent": "urgent_safety" in flags and not purpose.startswith("extension_"),
        "safeguarding": "safeguarding" in flags,
        "non_english": "non_english" in flags,
        "third_party": "third_party" in flags,
        "acknowledge_by": due("acknowledge"),
        "respond_by": due("respond"),
        "meeting_by": due("arrange_meeting"),
        "review_meeting_by": due("notify_review_meeting"),
        "hearing_by": due("hold_hearing"),
        "escalate_by": due("escalation_request_by"),
        "make_safe_by": moment_in_words(min(make_safe)) if make_safe else None,
        "investigate_by": due("investigate_hazard"),
        "ombudsman_phone": HOUSING_OMBUDSMAN_PHONE,
        "ombudsman_website": HOUSING_OMBUDSMAN_WEBSITE,
        "gas_phone": GAS_EMERGENCY_PHONE,
        "late_notes": _late_notes(passed, received_at),
        "late_short": "Our target date has passed; we will reply as soon as we can." if passed else None,
        "extension_reason": extension_reason,
        "previous_date": due("holding_response"),
        "domestic_abuse_phone": DOMESTIC_ABUSE_HELPLINE_PHONE,
        "samaritans_phone": SAMARITANS_PHONE,
    }


# What each kind of deadline promised, for a letter that must say its date has passed.
PASSED_WORDS = {
    "acknowledge": "acknowledge your message",
    "respond": "send you our full response",
    "make_safe": "make the problem safe",
    "investigate_hazard": "inspect the damp or mould",
    "arrange_meeting": "arrange to meet you",
    "notify_review_meeting": "write to you about a review meeting",
    "hold_hearing": "hear your complaint at a panel",
}


def _late_notes(passed: Sequence[ComputedDeadline], received_at: datetime | None) -> list[str]:
    """One plain sentence per policy date already past when the letter goes."""
    notes = []
    since = f" We received your message on {date_in_words(received_at)}." if received_at else ""
    for deadline in sorted(passed, key=lambda d: d.due_at):
        when = moment_in_words(deadline.due_at) if deadline.kind == "make_safe" else date_in_words(deadline.due_at)
        notes.append(
            f"Our policy is to {PASSED_WORDS[deadline.kind]} by {when}, and that date has already "
            f"passed.{since} We are sorry: we will do this as soon as we can."
        )
        since = ""
    return notes


def _template_name(context: dict[str, Any], channel: str) -> str:
    if context["purpose"].startswith("extension_"):
        return "extension"
    if channel == "sms" and context["safeguarding"] and context["purpose"] == "received":
        # Two segments hold the 999 advice and the helplines, not a type's details as well.
        return "safeguarding"
    if context["purpose"] == "complaint":
        return "complaint_escalated"
    if context["purpose"].startswith("stage_") and context["purpose"] != "stage_1":
        return "complaint_next_stage"
    return context["item_type"] or "unconfirmed"


def _subject(context: dict[str, Any]) -> str:
    reference = f"[{context['reference']}] " if context["reference"] else ""
    # What the letter is about comes first: a later letter on an urgent case is not the urgent one.
    if context["purpose"].startswith("extension_"):
        return f"{reference}Your {context['item_word']}: a new date for our response"
    if context["safeguarding"] and context["purpose"] == "received":
        # Neutral on purpose: a subject shows in previews other people in the home may see.
        return f"{reference}We have received your message"
    if context["purpose"] == "complaint":
        return f"{reference}We are now handling this as a complaint"
    if context["purpose"].startswith("stage_") and context["purpose"] != "stage_1":
        return f"{reference}Your complaint has moved to {context['stage_words']}"
    if context["urgent"]:
        return f"{reference}Urgent: we have your {context['item_word']} - if anyone is in danger call 999"
    if context["formal"] and context["item_type"] == "complaint":
        return f"{reference}Your letter on behalf of a constituent: complaint received"
    if context["formal"]:
        return f"{reference}Your enquiry on behalf of a constituent: acknowledgement"
    return f"{reference}We have received your {context['item_word']}"


def date_in_words(moment: datetime) -> str:
    """'Friday 4 December 2026', in Europe/London."""
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y}"


def moment_in_words(moment: datetime) -> str:
    """'10:30am on Friday 4 December 2026' (just the date when it is the end of the day)."""
    local = moment.astimezone(LONDON)
    if local.time().replace(microsecond=0) == END_OF_DAY:
        return f"the end of {date_in_words(moment)}"
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'} on {date_in_words(moment)}"


def _stage_words(stage: str | None) -> str | None:
    if stage is None:
        return None
    return "the informal stage" if stage == "stage_0" else stage.replace("_", " ")


def _clean_name(name: str | None) -> str | None:
    """A name fit for a greeting: no addresses or numbers, no stray whitespace, not too long."""
    if not name:
        return None
    cleaned = " ".join(name.replace("\n", " ").split())
    if not cleaned or "@" in cleaned or any(char.isdigit() for char in cleaned) or len(cleaned) > 60:
        return None
    return cleaned


# --- rendering -----------------------------------------------------------------------------


# The templates ship with the release and are read once per process: `auto_reload=False`, or Jinja
# stats each template file on every `get_template` (several a letter, 6 a text in a worker's batch).
@cache
def _environment(*, html: bool) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        auto_reload=False,
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["paragraphs"] = _html_paragraphs
    return environment


def _html_paragraphs(body: str) -> list[Markup]:
    """Blank-line separated blocks as HTML: headings stay as they are, other blocks become <p>."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", str(body)) if block.strip()]
    rendered = []
    for block in blocks:
        if block.startswith("<h"):
            rendered.append(Markup(block))
        else:
            lines = [line.strip() for line in block.splitlines() if line.strip()]
            rendered.append(
                Markup("<p>") + Markup("<br>\n").join(Markup(line) for line in lines) + Markup("</p>")
            )
    return rendered


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# Wordings tried in turn until the text fits two segments: full, then shorter phrases, then (tight)
# the damp inspection date is left out of an emergency text — staff phone about emergencies anyway.
SMS_WORDINGS = (
    {"compact": False, "tight": False},
    {"compact": True, "tight": False},
    {"compact": True, "tight": True},
)


def _render_sms(template: str, context: dict[str, Any]) -> str:
    """One line of text in the longest wording that fits two segments."""
    environment = _sms_environment()
    text = ""
    for wording in SMS_WORDINGS:
        text = " ".join(environment.get_template(template).render(**context, **wording).split())
        if sms_segments(text) <= MAX_SMS_SEGMENTS:
            return text
    return text  # the tests prove every template's worst case fits; never drop a message for length


@cache
def _sms_environment() -> Environment:
    # Newlines after tags are kept (no trim_blocks): the lines are joined with single spaces.
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR), auto_reload=False, autoescape=False, undefined=StrictUndefined,
        lstrip_blocks=True,
    )


__all__ = [
    "RenderedAcknowledgement",
    "date_in_words",
    "moment_in_words",
    "render_acknowledgement",
    "sms_segments",
]
