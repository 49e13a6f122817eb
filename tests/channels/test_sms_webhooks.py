"""Inbound texts through the real app and pipeline: signed webhooks in, SMS acknowledgements out
through the real `twilio` client to the loopback stand-in."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_to_bytes

from sqlalchemy import func, select

from intake.references import REFERENCE_PATTERN
from intake.runtime import Runtime
from models import Acknowledgement, Item, RawMessage
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import (
    TwilioWebhooks,
    new_mobile,
    sign,
    sms_form,
)

COMPLAINT = (
    "This is the third time I have texted about the damp in my bedroom. Nobody has come back to me "
    "and the mould is all over the wall again. Not good enough."
)
SMS_PATH = "/webhooks/twilio/sms"


def _items(runtime: Runtime) -> list[Item]:
    with runtime.database.session() as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


def test_a_signed_text_becomes_a_labelled_routed_item_and_the_sender_gets_one_sms(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    response = webhooks.text(COMPLAINT, sender=sender)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    with sms_runtime.database.session() as session:
        item = session.scalars(select(Item)).one()
        assert (item.channel, item.sender_address, item.body) == ("sms", sender, COMPLAINT)
        assert item.type == "complaint"
        assert item.queue in ("complaints", "triage_review")
        assert REFERENCE_PATTERN.fullmatch(item.reference)
        assert {d.kind for d in item.deadlines} >= {"acknowledge", "respond"}
        acknowledgement = session.scalars(select(Acknowledgement)).one()
        assert (acknowledgement.channel, acknowledgement.status) == ("sms", "sent")
        [sent] = twilio_standin.messages_to(sender)
        assert item.reference in sent.form["Body"]
        assert acknowledgement.provider_id and acknowledgement.provider_id.startswith("SM")
        assert session.scalars(select(RawMessage).where(RawMessage.item_id == item.id)).one().content


def test_a_bad_signature_is_refused_and_nothing_is_stored(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    form = sms_form(COMPLAINT, sender=new_mobile())
    tampered = {**form, "Body": "something else entirely"}
    refused = [
        webhooks.post(SMS_PATH, form, signature="bm90IGEgc2lnbmF0dXJl"),
        webhooks.post(SMS_PATH, form, signature=""),
        webhooks.post(SMS_PATH, form, signature=sign(SMS_PATH, form, token="another-accounts-token")),
        # Signed for the address the request reached, not the public one Twilio knows: refused.
        webhooks.post(SMS_PATH, form, signature=sign(SMS_PATH, form, base="http://testserver")),
        webhooks.post(SMS_PATH, tampered, signature=sign(SMS_PATH, form)),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert _items(sms_runtime) == []
    assert twilio_standin.requests == []


def test_unsigned_webhooks_are_accepted_only_when_development_relaxes_the_check(
    webhooks: TwilioWebhooks, sms_runtime: Runtime
) -> None:
    sms_runtime.settings.twilio.skip_signature_validation = True
    response = webhooks.post(SMS_PATH, sms_form("my gate latch is broken", sender=new_mobile()), signature="")
    assert response.status_code == 200
    assert len(_items(sms_runtime)) == 1


def test_a_replayed_message_sid_makes_no_second_item_and_no_second_sms(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    form = sms_form(COMPLAINT, sender=new_mobile())
    first = webhooks.post(SMS_PATH, form)
    replay = webhooks.post(SMS_PATH, form)

    assert first.status_code == replay.status_code == 200
    assert len(_items(sms_runtime)) == 1
    assert len(twilio_standin.messages) == 1


def test_a_concatenated_long_text_is_one_item_with_the_whole_body(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    sender = new_mobile()
    long_text = (
        "Hi, I'm writing about the repair to the bathroom ceiling at 14 Elm Road. " * 6
        + "The engineer said he would come back on Tuesday with the part and nobody came. Third time now."
    )
    response = webhooks.text(long_text, sender=sender, NumSegments="4")

    assert response.status_code == 200
    [item] = _items(sms_runtime)
    assert item.body == long_text
    assert item.details["num_segments"] == 4
    assert len(twilio_standin.messages_to(sender)) == 1


def test_an_empty_text_is_stored_and_sent_to_a_person(webhooks: TwilioWebhooks, sms_runtime: Runtime) -> None:
    response = webhooks.text("", sender=new_mobile())
    assert response.status_code == 200
    [item] = _items(sms_runtime)
    assert item.body == ""
    assert item.status == "processed"
    assert item.queue == "triage_review"


def test_a_picture_message_records_its_media_urls(webhooks: TwilioWebhooks, sms_runtime: Runtime) -> None:
    media_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    webhooks.text(
        "this is the mould in the bathroom",
        sender=new_mobile(),
        NumMedia="1",
        MediaUrl0=media_url,
        MediaContentType0="image/jpeg",
    )
    [item] = _items(sms_runtime)
    assert item.details["media"] == [{"url": media_url, "content_type": "image/jpeg"}]


def test_emoji_and_non_latin_scripts_are_stored_exactly_and_acknowledged_in_english(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    texts = {
        new_mobile(): "Καλησπέρα, το καλοριφέρ δεν λειτουργεί εδώ και τρεις μέρες 😡🥶",
        new_mobile(): "مرحبا، الحمام يسرب الماء منذ أسبوع ولم يأت أحد 💧",
        new_mobile(): "你好，我家厨房的水龙头坏了，请派人来修理 🙏",
    }
    for sender, body in texts.items():
        assert webhooks.text(body, sender=sender).status_code == 200

    with sms_runtime.database.session() as session:
        stored = {item.sender_address: item for item in session.scalars(select(Item))}
        for sender, body in texts.items():
            item = stored[sender]
            assert item.body == body
            raw = session.scalars(select(RawMessage).where(RawMessage.item_id == item.id)).one()
            assert body.encode("utf-8") in _form_bytes_decoded(raw.content)
            assert "non_english" in item.flags
            [sent] = twilio_standin.messages_to(sender)
            assert item.reference in sent.form["Body"]
            # Acknowledged in plain English: none of the resident's script comes back.
            assert not {ch for ch in body if not ch.isascii()} & set(sent.form["Body"])


def test_a_signed_webhook_without_a_message_sid_is_refused_and_kept(
    webhooks: TwilioWebhooks, sms_runtime: Runtime
) -> None:
    form = {key: value for key, value in sms_form("hello", sender=new_mobile()).items() if "Sid" not in key}
    response = webhooks.post(SMS_PATH, form)
    assert response.status_code == 422
    with sms_runtime.database.session() as session:
        kept = session.scalars(select(RawMessage).where(RawMessage.item_id.is_(None))).one()
        assert kept.rejected_reason and "external_id" in kept.rejected_reason
        assert session.scalar(select(func.count()).select_from(Item)) == 0


def test_the_signature_covers_a_query_string_on_the_webhook_url(
    webhooks: TwilioWebhooks, sms_runtime: Runtime
) -> None:
    form = sms_form("my fence panel blew down", sender=new_mobile())
    path = SMS_PATH + "?line=repairs"
    without_query = webhooks.client.post(
        path, data=form, headers={"X-Twilio-Signature": sign(SMS_PATH, form)}
    )
    with_query = webhooks.client.post(path, data=form, headers={"X-Twilio-Signature": sign(path, form)})
    assert (without_query.status_code, with_query.status_code) == (403, 200)


def _form_bytes_decoded(content: bytes) -> bytes:
    return unquote_to_bytes(content.replace(b"+", b" "))


def test_texts_arriving_together_are_all_stored_and_acknowledged(
    webhooks: TwilioWebhooks, sms_runtime: Runtime, twilio_standin: TwilioStandIn
) -> None:
    senders = [new_mobile() for _ in range(6)]
    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        answers = list(pool.map(lambda sender: webhooks.text(COMPLAINT, sender=sender), senders))

    assert [answer.status_code for answer in answers] == [200] * len(senders)
    assert sorted(item.sender_address for item in _items(sms_runtime)) == sorted(senders)
    assert sorted(request.form["To"] for request in twilio_standin.messages) == sorted(senders)
