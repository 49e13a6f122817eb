"""Corrections: stored for training, audited, and the item moves queues with new deadlines."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.cases import current_deadlines
from intake.corrections import correct_item
from intake.errors import InvalidMessage
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import Acknowledgement, AuditEntry, Correction, Item
from tests.factories import email_message, sms_message

RENT_STATEMENT = "Hi, could you send me a copy of my rent statement for 2025/26 please? I need it for a benefit claim. Thanks, Tom"


def _ingested(runtime: Runtime, body: str = RENT_STATEMENT) -> int:
    return ingest(runtime, email_message(body, subject="Rent statement")).item_id


def _correct(runtime: Runtime, item_id: int, **labels: object) -> object:
    values: dict[str, object] = {"type": "complaint", "categories": [], "flags": [], "queue": None, "reason": None}
    values.update(labels)
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        return correct_item(runtime, session, item, user="tina", **values)  # type: ignore[arg-type]


def test_a_correction_to_complaint_is_stored_moves_the_item_and_starts_the_complaint_clock(runtime: Runtime) -> None:
    item_id = _ingested(runtime)
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item.type != "complaint", "precondition: the model did not already call it a complaint"
        before_queue = item.queue
        old_deadlines = [d.id for d in current_deadlines(item)]

    outcome = _correct(runtime, item_id, categories=["delay"], reason="third time asking")

    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert (item.type, item.categories, item.queue) == ("complaint", ["delay"], "complaints")
        assert item.complaint_stage == "stage_1"
        assert item.stage_started_at == item.received_at  # the complaint was made when it arrived
        current = current_deadlines(item)
        assert current and not {d.id for d in current} & set(old_deadlines)
        assert {"acknowledge", "respond"} <= {d.kind for d in current}
        correction = session.scalars(select(Correction)).one()
        assert correction.corrected_by == "tina" and correction.reason == "third time asking"
        assert correction.before["queue"] == before_queue
        assert correction.after == {"type": "complaint", "categories": ["delay"], "flags": [], "queue": "complaints"}
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.item_id == item_id)))
        assert "corrected" in actions and "became_complaint" in actions
        purposes = set(session.scalars(select(Acknowledgement.purpose).where(Acknowledgement.item_id == item_id)))
        assert "complaint" in purposes
    assert outcome.moved and outcome.became_complaint  # type: ignore[attr-defined]


def test_a_safety_flag_sends_the_item_to_the_emergency_queue(runtime: Runtime) -> None:
    item_id = _ingested(runtime)
    _correct(runtime, item_id, type="service_request", flags=["urgent_safety"])
    with runtime.database.session() as session:
        assert session.get(Item, item_id).queue == "emergency"


def test_a_chosen_queue_wins_over_routing(runtime: Runtime) -> None:
    item_id = _ingested(runtime)
    _correct(runtime, item_id, type="enquiry", queue="formal_enquiries")
    with runtime.database.session() as session:
        assert session.get(Item, item_id).queue == "formal_enquiries"


def test_a_complaint_corrected_to_an_enquiry_leaves_the_complaint_procedure(runtime: Runtime) -> None:
    item_id = _ingested(runtime)
    _correct(runtime, item_id, categories=["delay"])
    _correct(runtime, item_id, type="enquiry")
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert (item.type, item.complaint_stage, item.queue) == ("enquiry", None, "enquiries")
        assert len(list(session.scalars(select(Correction)))) == 2


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"type": "enquiry", "categories": ["delay"]}, "categories are for complaints only"),
        ({"type": "grumble"}, "unknown type"),
        ({"flags": ["vip"]}, "unknown flag"),
        ({"queue": "nowhere"}, "unknown queue"),
    ],
)
def test_impossible_labels_are_refused_and_nothing_is_stored(
    runtime: Runtime, labels: dict[str, object], message: str
) -> None:
    item_id = _ingested(runtime)
    with pytest.raises(InvalidMessage, match=message):
        _correct(runtime, item_id, **labels)
    with runtime.database.session() as session:
        assert session.scalars(select(Correction)).first() is None


def test_a_correction_that_changes_nothing_is_refused(runtime: Runtime) -> None:
    item_id = _ingested(runtime)
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        same = {"type": item.type, "categories": item.categories, "flags": item.flags, "queue": item.queue}
    with pytest.raises(InvalidMessage, match="nothing has changed"):
        _correct(runtime, item_id, **same)


def test_a_follow_up_corrected_to_a_complaint_makes_its_case_a_complaint(runtime: Runtime) -> None:
    first = ingest(runtime, sms_message("hi my kitchen tap wont stop dripping been like it since sat, can sum1 come out pls. 14 Larch Close"))
    follow_up = ingest(runtime, sms_message("any news on the tap? thanks"))
    with runtime.database.session() as session:
        root, item = session.get(Item, first.item_id), session.get(Item, follow_up.item_id)
        assert item.case_id == root.id, "precondition: the second text joined the first one's case"
        assert root.type == "service_request", "precondition: the first text is a first request"
    _correct(runtime, follow_up.item_id, categories=["delay"])
    with runtime.database.session() as session:
        root = session.get(Item, first.item_id)
        assert (root.type, root.complaint_stage) == ("complaint", "stage_1")
