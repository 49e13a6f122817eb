"""Texts from the same number thread onto their open case ("any update??"), and a dissatisfied
chaser turns a service request into a complaint — through the webhook, with real texts out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from intake.pipeline import ingest
from intake.runtime import Runtime
from models import Acknowledgement, Item
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import TwilioWebhooks, new_mobile
from tests.factories import sms_message

FIRST_REPAIR = "hi can someone come and look at my back door it wont lock properly. flat 3 ash court"
CHASER = "this is the 3rd time i have texted about my back door, nobody has come and nobody rings back. not good enough"


def _by_body(runtime: Runtime) -> dict[str, Item]:
    with runtime.database.session() as session:
        return {item.body: item for item in session.scalars(select(Item))}


def test_any_update_joins_the_open_case_and_gets_no_second_text(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    webhooks.text(FIRST_REPAIR, sender=sender)
    webhooks.text("any update??", sender=sender)

    items = _by_body(sms_runtime)
    assert items["any update??"].case_id == items[FIRST_REPAIR].id
    assert len(twilio_standin.messages_to(sender)) == 1  # one acknowledgement per case


def test_a_keyword_text_in_between_does_not_break_the_thread(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    webhooks.text(FIRST_REPAIR, sender=sender)
    webhooks.text("HELP", sender=sender)
    webhooks.text("any update??", sender=sender)

    items = _by_body(sms_runtime)
    assert items["any update??"].case_id == items[FIRST_REPAIR].id


def test_a_dissatisfied_chaser_makes_the_service_request_a_complaint_and_says_so_by_text(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    webhooks.text(FIRST_REPAIR, sender=sender)
    assert _by_body(sms_runtime)[FIRST_REPAIR].type == "service_request"

    webhooks.text(CHASER, sender=sender)

    with sms_runtime.database.session() as session:
        root = session.scalars(select(Item).where(Item.body == FIRST_REPAIR)).one()
        assert root.type == "complaint"
        assert root.complaint_stage == "stage_1"
        assert {d.kind for d in root.deadlines if d.superseded_at is None} >= {"acknowledge", "respond"}
        purposes = sorted(
            a.purpose
            for a in session.scalars(select(Acknowledgement).where(Acknowledgement.item_id == root.id))
        )
        assert purposes == ["complaint", "received"]
    texts = twilio_standin.messages_to(sender)
    assert len(texts) == 2  # receipt, then "your request is now a complaint"
    assert all(root.reference in text.form["Body"] for text in texts)


def test_a_text_after_the_window_starts_a_new_case(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    window = sms_runtime.settings.follow_up_window_days
    ingest(
        sms_runtime,
        sms_message(FIRST_REPAIR, phone=sender, received_at=datetime.now(UTC) - timedelta(days=window + 1)),
    )
    webhooks.text("can i get a new key fob for the bin store please", sender=sender)

    items = _by_body(sms_runtime)
    assert items["can i get a new key fob for the bin store please"].case_id is None
    assert len(twilio_standin.messages_to(sender)) == 2
