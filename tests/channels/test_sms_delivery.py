"""What happens after a text is handed to Twilio: delivery reports, a Twilio outage, and numbers
that cannot take texts (the acknowledgement falls back to email, or to a call back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from channels.message import InboundMessage
from intake import jobs
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import Acknowledgement, Item
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import TwilioWebhooks, new_mobile, status_form

REPAIR = "Hello, the light in the communal stairwell at 12 Birch Court has been out since Friday, please fix"
STATUS_PATH = "/webhooks/twilio/status"


def _acknowledgement(runtime: Runtime) -> Acknowledgement:
    with runtime.database.session() as session:
        return session.scalars(select(Acknowledgement)).one()


@pytest.mark.parametrize(
    ("status", "error_code", "recorded"),
    [
        ("delivered", None, "delivered"),
        ("failed", "30008", "failed"),
        ("undelivered", "30005", "undelivered"),
    ],
)
def test_status_callbacks_record_what_became_of_the_text(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, status: str, error_code: str | None, recorded: str
) -> None:
    sender = new_mobile()
    webhooks.text(REPAIR, sender=sender)
    sent = _acknowledgement(sms_runtime)
    assert sent.status == "sent" and sent.provider_id

    webhooks.post(STATUS_PATH, status_form(sent.provider_id, "sent", to=sender))
    assert _acknowledgement(sms_runtime).status == "sent"  # not final yet: nothing changes
    response = webhooks.post(
        STATUS_PATH, status_form(sent.provider_id, status, to=sender, error_code=error_code)
    )

    assert response.status_code == 200
    after = _acknowledgement(sms_runtime)
    assert after.status == recorded
    if error_code:
        assert error_code in (after.last_error or "")


def test_a_status_callback_with_a_bad_signature_changes_nothing(
    webhooks: TwilioWebhooks, sms_runtime: Runtime
) -> None:
    sender = new_mobile()
    webhooks.text(REPAIR, sender=sender)
    sent = _acknowledgement(sms_runtime)
    forged = webhooks.post(
        STATUS_PATH, status_form(sent.provider_id or "", "failed", to=sender), signature="x"
    )
    assert forged.status_code == 403
    assert _acknowledgement(sms_runtime).status == "sent"


def test_a_status_for_a_message_we_never_sent_is_accepted_and_ignored(
    webhooks: TwilioWebhooks, sms_runtime: Runtime
) -> None:
    response = webhooks.post(STATUS_PATH, status_form("SM" + "0" * 32, "delivered", to=new_mobile()))
    assert response.status_code == 200


def test_a_twilio_5xx_then_success_sends_the_acknowledgement_exactly_once(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    twilio_standin.fail_next(1, status=500)
    webhooks.text(REPAIR, sender=sender)

    waiting = _acknowledgement(sms_runtime)
    assert (waiting.status, waiting.attempts) == ("retry", 1)
    assert "500" in (waiting.last_error or "")
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > datetime.now(UTC)
    assert jobs.sweep()["acknowledgements"] == 0  # not due yet: the back-off is respected

    with sms_runtime.database.session() as session:  # the back-off has passed
        session.execute(
            update(Acknowledgement).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    jobs.sweep()
    jobs.sweep()

    sent = _acknowledgement(sms_runtime)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert [r.answered for r in twilio_standin.requests] == [500, 201]
    assert len(twilio_standin.messages_to(sender)) == 1


def test_a_number_twilio_says_is_a_landline_gets_a_call_back(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    twilio_standin.refuse(sender, code=21614)
    webhooks.text(REPAIR, sender=sender)

    acknowledgement = _acknowledgement(sms_runtime)
    assert acknowledgement.status == "needs_callback"
    assert "21614" in (acknowledgement.last_error or "")
    assert twilio_standin.messages == []


def test_a_landline_with_a_known_email_is_acknowledged_by_email(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    # The resident once used the web form with both their email and this number.
    ingest(
        sms_runtime,
        InboundMessage(
            channel="web_form",
            external_id="form-1",
            body="Thank you for fixing the gate so quickly, the caretaker was brilliant",
            sender_address="sam.resident@example.com",
            sender_email="sam.resident@example.com",
            sender_phone=sender,
        ),
    )
    twilio_standin.refuse(sender, code=21614)
    webhooks.text(REPAIR, sender=sender)

    with sms_runtime.database.session() as session:
        item = session.scalars(select(Item).where(Item.channel == "sms")).one()
        fallback = session.scalars(select(Acknowledgement).where(Acknowledgement.item_id == item.id)).one()
        assert (fallback.channel, fallback.recipient, fallback.status) == (
            "email",
            "sam.resident@example.com",
            "sent",  # the email fallback is queued at once, not left for the sweep
        )
    jobs.send_acknowledgement(fallback.id)  # a second run sends nothing more

    with sms_runtime.database.session() as session:
        sent = session.get(Acknowledgement, fallback.id)
        assert sent.status == "sent"
        assert item.reference in sent.body_text
    emails = [path.read_text() for path in (sms_runtime.settings.outbox_dir / "email").iterdir()]
    assert any(item.reference in email and "sam.resident@example.com" in email for email in emails)
    assert twilio_standin.messages_to(sender) == []


def test_a_failed_delivery_report_for_a_landline_falls_back_to_a_call_back(
    webhooks: TwilioWebhooks, sms_runtime: Runtime
) -> None:
    sender = new_mobile()
    webhooks.text(REPAIR, sender=sender)
    sent = _acknowledgement(sms_runtime)
    webhooks.post(
        STATUS_PATH, status_form(sent.provider_id or "", "undelivered", to=sender, error_code="21614")
    )
    assert _acknowledgement(sms_runtime).status == "needs_callback"
