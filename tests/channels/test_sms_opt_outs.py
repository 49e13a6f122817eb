"""STOP, START and HELP: stored, honoured, never triaged; no text ever goes to an opted-out number."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.runtime import Runtime
from models import Acknowledgement, AuditEntry, Item, SmsOptOut
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import TwilioWebhooks, new_mobile

REPAIR = "Hi, the extractor fan in my bathroom has stopped working, can someone come and fix it please"


def _item_of(runtime: Runtime, body: str, sender: str) -> Item:
    with runtime.database.session() as session:
        return session.scalars(select(Item).where(Item.body == body, Item.sender_address == sender)).one()


def test_stop_then_start(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()

    assert webhooks.text("STOP", sender=sender).status_code == 200
    stop = _item_of(sms_runtime, "STOP", sender)
    assert stop.status == "processed" and stop.type is None and stop.queue is None  # stored, not triaged
    with sms_runtime.database.session() as session:
        assert session.get(SmsOptOut, sender).opted_out

    webhooks.text(REPAIR, sender=sender)
    while_opted_out = _item_of(sms_runtime, REPAIR, sender)
    assert while_opted_out.type == "service_request"  # the message itself is still triaged and stored
    with sms_runtime.database.session() as session:
        acknowledgement = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == while_opted_out.id)
        ).one()
        assert acknowledgement.status == "suppressed"
        assert "opted out" in (acknowledgement.last_error or "")
    assert twilio_standin.messages_to(sender) == []

    webhooks.text("Start", sender=sender)
    with sms_runtime.database.session() as session:
        assert not session.get(SmsOptOut, sender).opted_out
    assert twilio_standin.messages_to(sender) == []  # START itself is not answered by us
    with sms_runtime.database.session() as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.in_(("sms_opted_out", "sms_opted_in")))
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["sms_opted_out", "sms_opted_in"]


def test_after_start_a_new_case_is_acknowledged_by_text_again(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    webhooks.text("STOP", sender=sender)
    webhooks.text("START", sender=sender)
    webhooks.text(REPAIR, sender=sender)

    [sent] = twilio_standin.messages_to(sender)
    assert _item_of(sms_runtime, REPAIR, sender).reference in sent.form["Body"]


@pytest.mark.parametrize("keyword", ["STOPALL", "unsubscribe", "Cancel", "END", "quit"])
def test_every_carrier_opt_out_word_opts_the_number_out(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn, keyword: str
) -> None:
    sender = new_mobile()
    webhooks.text(keyword, sender=sender)
    webhooks.text(REPAIR, sender=sender)
    with sms_runtime.database.session() as session:
        assert session.get(SmsOptOut, sender).opted_out
    assert twilio_standin.messages_to(sender) == []
    assert _item_of(sms_runtime, REPAIR, sender).status == "processed"


def test_help_gets_the_help_text_and_is_not_triaged(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    webhooks.text("HELP", sender=sender)

    [reply] = twilio_standin.messages_to(sender)
    assert reply.form["Body"] == sms_runtime.settings.sms_help_text
    item = _item_of(sms_runtime, "HELP", sender)
    assert item.type is None and item.queue is None
    with sms_runtime.database.session() as session:
        assert session.get(SmsOptOut, sender) is None


def test_twilio_refusing_an_unsubscribed_number_records_the_opt_out(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    """The resident texted STOP to Twilio's own opt-out handling, which we never saw: error 21610."""
    sender = new_mobile()
    twilio_standin.refuse(sender, code=21610)
    webhooks.text(REPAIR, sender=sender)

    with sms_runtime.database.session() as session:
        assert session.get(SmsOptOut, sender).opted_out
        acknowledgement = session.scalars(select(Acknowledgement)).one()
        assert acknowledgement.status == "needs_callback"
        assert "21610" in (acknowledgement.last_error or "")
    assert twilio_standin.messages_to(sender) == []
