"""Reply templates: the wording an officer starts a reply from.

The defaults ship as data in `triage_rules/reply_templates/defaults.toml`; a manager's saved version
(the `reply_templates` table) replaces the default with the same key. Templates hold a fixed set of
`{placeholders}` and nothing else — no expressions — so a template can never run code or reach
anything but the values below; an unknown placeholder is refused when the template is saved.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import audit
from models import ReplyTemplate
from triage_rules.acknowledgement_wording import sms_segments

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "triage_rules" / "reply_templates" / "defaults.toml"
CHANNELS = ("email", "sms")
PLACEHOLDERS = {
    "greeting": "Dear Pat Resident (or Hello when no usable name is known)",
    "reference": "the case reference",
    "landlord": "the landlord's name",
    "landlord_phone": "the landlord's phone number",
    "officer": "your name",
}
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_]{1,62}")
MAX_BODY = 5000
MAX_SUBJECT = 150
# A reply by text may be longer than an acknowledgement (2 parts) but not a letter: 3 parts of GSM-7.
MAX_SMS_SEGMENTS = 3
# The longest values the placeholders take in practice, to check an SMS template still fits.
SAMPLE_VALUES = {
    "greeting": "Dear Alexandra Montgomery-Smith",
    "reference": "CMP-2026-000123",
    "landlord": "Riverside Community Housing",
    "landlord_phone": "0300 123 4567",
    "officer": "Alexandra Montgomery-Smith",
}


class TemplateInvalid(ValueError):
    """A template a manager tried to save breaks a rule: `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    channel: str
    subject: str | None
    body: str
    active: bool = True
    edited_by: str | None = None  # None: the shipped default
    edited_at: datetime | None = None


@cache
def shipped_templates() -> tuple[Template, ...]:
    data = tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    found = []
    for entry in data.get("template", []):
        template = Template(
            key=entry["key"],
            name=entry["name"],
            channel=entry["channel"],
            subject=entry.get("subject"),
            body=entry["body"].strip() + "\n" if entry["channel"] == "email" else entry["body"].strip(),
        )
        check(template)  # a broken default fails loudly at first use, never quietly in a letter
        found.append(template)
    return tuple(found)


def all_templates(session: Session, *, active_only: bool = False) -> list[Template]:
    """Every template: the manager's versions, and the shipped defaults nobody has edited."""
    saved = {row.key: row for row in session.scalars(select(ReplyTemplate))}
    merged = [
        _from_row(saved.pop(template.key)) if template.key in saved else template
        for template in shipped_templates()
    ]
    merged += [_from_row(row) for row in sorted(saved.values(), key=lambda row: row.name)]
    return [template for template in merged if template.active or not active_only]


def find(session: Session, key: str) -> Template | None:
    return next((template for template in all_templates(session) if template.key == key), None)


def _from_row(row: ReplyTemplate) -> Template:
    return Template(
        key=row.key,
        name=row.name,
        channel=row.channel,
        subject=row.subject,
        body=row.body,
        active=row.active,
        edited_by=row.updated_by,
        edited_at=row.updated_at,
    )


def placeholders_in(text: str) -> list[str]:
    """The placeholder names in `text`; raises ValueError on a malformed brace."""
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if spec or conversion or name not in PLACEHOLDERS:
            raise ValueError(f"{{{name}}}")
        names.append(name)
    return names


def check(template: Template) -> None:
    """Raise TemplateInvalid when the template cannot be saved (and so cannot be used)."""
    if not KEY_PATTERN.fullmatch(template.key):
        raise TemplateInvalid(
            "key", "Use lower-case letters, digits and _ for the short name (2 to 63 characters)"
        )
    if not template.name.strip() or len(template.name) > 120:
        raise TemplateInvalid("name", "Enter a name of up to 120 characters")
    if template.channel not in CHANNELS:
        raise TemplateInvalid("channel", "Choose email or text message")
    if template.channel == "email" and not (template.subject or "").strip():
        raise TemplateInvalid("subject", "Enter the subject line for an email template")
    if template.subject and len(template.subject) > MAX_SUBJECT:
        raise TemplateInvalid("subject", f"Keep the subject under {MAX_SUBJECT} characters")
    if not template.body.strip():
        raise TemplateInvalid("body", "Enter the text of the template")
    if len(template.body) > MAX_BODY:
        raise TemplateInvalid("body", f"Keep the text under {MAX_BODY} characters")
    for field, text in (("subject", template.subject or ""), ("body", template.body)):
        try:
            placeholders_in(text)
        except ValueError as error:
            raise TemplateInvalid(
                field,
                f"{error} is not a placeholder you can use: use {', '.join('{' + name + '}' for name in PLACEHOLDERS)}"
                " (write {{ or }} for a brace)",
            ) from None
    if template.channel == "sms":
        longest = fill(template.body, SAMPLE_VALUES)
        if sms_segments(longest) > MAX_SMS_SEGMENTS:
            raise TemplateInvalid(
                "body",
                f"A text message template must fit in {MAX_SMS_SEGMENTS} text messages with a long name "
                f"and reference in it: this one takes {sms_segments(longest)}",
            )


def fill(text: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled in (the template was checked when it was saved)."""
    return text.format_map({name: values.get(name, "") for name in PLACEHOLDERS})


def save(session: Session, template: Template, *, actor: str, now: datetime) -> ReplyTemplate:
    """Save a manager's version of a template (new, or replacing the default / an earlier edit)."""
    check(template)
    row = session.scalars(select(ReplyTemplate).where(ReplyTemplate.key == template.key)).first()
    before = (
        _from_row(row)
        if row is not None
        else next((shipped for shipped in shipped_templates() if shipped.key == template.key), None)
    )
    if row is None:
        row = ReplyTemplate(key=template.key)
        session.add(row)
    row.name = template.name.strip()
    row.channel = template.channel
    row.subject = (template.subject or "").strip() or None if template.channel == "email" else None
    row.body = template.body.replace("\r\n", "\n")
    row.active = template.active
    row.updated_by = actor
    row.updated_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="reply_template_saved",
        key=template.key,
        channel=template.channel,
        created=before is None,
        active=template.active,
    )
    return row
