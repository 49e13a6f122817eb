"""Everything the item page shows, read in one place: the message as it arrived, the labels and why,
the deadlines, the case and the audit trail."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake import deadlines as case_deadlines
from intake.deadlines import DeadlineState, MeetingAction
from intake.items import case_items
from intake.privacy.notes import notes_for_items
from intake.runtime import Runtime
from intake.web.highlight import explanation_terms, highlight
from intake.web.ombudsman import Reminder, reminder_for
from intake.web.pages import PageNotFound
from models import Acknowledgement, AuditEntry, Correction, Deadline, Item, RawMessage

TURN_PATTERN = re.compile(r"^\s*([A-Za-z][A-Za-z .'-]{0,30}):\s*(.*)$")
SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID", "In-Reply-To", "Auto-Submitted")


@dataclass(frozen=True)
class DeadlineRow:
    """A deadline as the page shows it: its state from `intake.deadlines` and the action that meets it."""

    deadline: Deadline
    state: DeadlineState
    action: MeetingAction | None


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str


@dataclass(frozen=True)
class ThreadMessage:
    at: Any
    text: str
    outbound: bool
    item_id: int | None = None


@dataclass
class ItemView:
    item: Item
    root: Item
    raw: RawMessage | None
    case: list[Item]
    acknowledgements: list[Acknowledgement]
    deadlines: list[Deadline]
    superseded: list[Deadline]
    deadline_rows: list[DeadlineRow]
    corrections: list[Correction]
    audit: list[AuditEntry]
    highlighted_body: Markup
    highlighted_prepared: Markup | None
    turns: list[Turn]
    sms_thread: list[ThreadMessage]
    headers: list[tuple[str, str]]
    reminder: Reminder
    type_probabilities: list[tuple[str, float]] = field(default_factory=list)
    category_probabilities: list[tuple[str, float]] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)  # case notes the audit entries point at


def transcript_turns(body: str) -> list[Turn]:
    """'Agent: …' / 'Caller: …' lines as turns; an unlabelled transcript is one turn."""
    turns: list[Turn] = []
    for line in body.splitlines():
        match = TURN_PATTERN.match(line)
        if match:
            turns.append(Turn(match.group(1).strip(), match.group(2).strip()))
        elif line.strip() and turns:
            turns[-1] = Turn(turns[-1].speaker, f"{turns[-1].text} {line.strip()}")
        elif line.strip():
            turns.append(Turn("", line.strip()))
    return turns


def _sorted_probabilities(values: Any) -> list[tuple[str, float]]:
    if not isinstance(values, dict):
        return []
    return sorted(((str(k), float(v)) for k, v in values.items()), key=lambda pair: -pair[1])


def load_item_view(runtime: Runtime, session: Session, item_id: int) -> ItemView:
    item = session.get(Item, item_id)
    if item is None:
        raise PageNotFound(f"There is no item {item_id}.")
    root = session.get(Item, item.case_root_id) or item
    case = case_items(session, root.id)
    case_ids = [member.id for member in case]
    acknowledgements = list(
        session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id.in_(case_ids)).order_by(Acknowledgement.id)
        )
    )
    terms = explanation_terms(item.explanation or {})
    explanation = item.explanation or {}
    return ItemView(
        item=item,
        root=root,
        raw=session.scalars(select(RawMessage).where(RawMessage.item_id == item.id)).first(),
        case=case,
        acknowledgements=acknowledgements,
        deadlines=case_deadlines.current(root),
        deadline_rows=[
            DeadlineRow(d, case_deadlines.state_of(d, runtime.clock.now()), case_deadlines.action_for(d.kind))
            for d in case_deadlines.current(root)
        ],
        superseded=[d for d in root.deadlines if d.superseded_at is not None],
        corrections=list(
            session.scalars(select(Correction).where(Correction.item_id == item.id).order_by(Correction.id))
        ),
        audit=list(
            session.scalars(
                select(AuditEntry)
                .where(or_(AuditEntry.item_id == item.id, AuditEntry.item_id == root.id))
                .order_by(AuditEntry.at, AuditEntry.id)
            )
        ),
        highlighted_body=highlight(item.body, terms),
        highlighted_prepared=highlight(item.prepared_text, terms) if item.prepared_text else None,
        turns=transcript_turns(item.body) if item.channel == "call_transcript" else [],
        sms_thread=_sms_thread(case, acknowledgements) if item.channel == "sms" else [],
        headers=[(name, str(item.headers[name])) for name in SHOWN_HEADERS if item.headers.get(name)],
        reminder=reminder_for(runtime, root.type, root.complaint_stage),
        type_probabilities=_sorted_probabilities(explanation.get("type_probabilities")),
        category_probabilities=_sorted_probabilities(explanation.get("category_probabilities"))[:5],
        notes={note.id: note.text for note in notes_for_items(session, sorted({item.id, root.id}))},
    )


def _sms_thread(case: list[Item], acknowledgements: list[Acknowledgement]) -> list[ThreadMessage]:
    """Texts in and out on this case, in time order."""
    inbound = [ThreadMessage(m.received_at, m.body, False, m.id) for m in case if m.channel == "sms"]
    outbound = [
        ThreadMessage(a.sent_at or a.created_at, a.body_text, True)
        for a in acknowledgements
        if a.channel == "sms" and a.body_text
    ]
    return sorted(inbound + outbound, key=lambda message: message.at)
