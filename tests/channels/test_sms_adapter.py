"""The inbound-SMS adapter: a Twilio webhook form becomes the `InboundMessage` the pipeline takes."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from channels.sms import message_from_twilio_form
from tests.channels.twilio_support import LANDLORD_NUMBER, sms_form


def _adapt(form: dict[str, str]):  # type: ignore[no-untyped-def]
    return message_from_twilio_form(form, raw=urlencode(form).encode())


def test_a_text_is_keyed_on_its_message_sid_with_e164_numbers() -> None:
    form = sms_form("my boiler is broken", sender="07400 100 777", sid="SM0123456789abcdef0123456789abcdef")
    message = _adapt(form)
    assert message.channel == "sms"
    assert message.external_id == "SM0123456789abcdef0123456789abcdef"
    assert message.sender_address == message.sender_phone == "+447400100777"
    assert message.metadata["to"] == LANDLORD_NUMBER
    assert message.raw == urlencode(form).encode()
    assert message.raw_content_type == "application/x-www-form-urlencoded"


def test_picture_messages_record_each_media_url_and_type() -> None:
    form = sms_form(
        "",
        sender="+447400100001",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
        MediaContentType1="image/png",
    )
    message = _adapt(form)
    assert message.body == ""  # a picture on its own is still a message
    assert [m["content_type"] for m in message.metadata["media"]] == ["image/jpeg", "image/png"]
    assert message.metadata["media"][1]["url"].endswith("/ME2")


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", "STOP"),
        ("stop", "STOP"),
        (" Stop. ", "STOP"),
        ("STOPALL", "STOPALL"),
        ("unsubscribe", "UNSUBSCRIBE"),
        ("Cancel", "CANCEL"),
        ("END", "END"),
        ("quit", "QUIT"),
        ("START", "START"),
        ("unstop", "UNSTOP"),
        ("help", "HELP"),
    ],
)
def test_a_text_that_is_only_a_carrier_keyword_is_marked(body: str, keyword: str) -> None:
    assert _adapt(sms_form(body, sender="+447400100002")).metadata["sms_keyword"] == keyword


@pytest.mark.parametrize(
    "body", ["please stop the noise next door", "can you help with my rent", "the leak will not end", ""]
)
def test_a_keyword_inside_a_sentence_is_an_ordinary_text(body: str) -> None:
    assert "sms_keyword" not in _adapt(sms_form(body, sender="+447400100003")).metadata


def test_a_concatenated_text_arrives_whole_with_its_segment_count() -> None:
    long_text = " ".join(
        ["The damp in the back bedroom is getting worse and the mould is back on the wall."] * 8
    )
    message = _adapt(sms_form(long_text, sender="+447400100004", NumSegments="5"))
    assert message.body == long_text
    assert message.metadata["num_segments"] == 5


def test_emoji_and_non_latin_scripts_are_kept_exactly() -> None:
    body = "Σπασμένο καλοριφέρ 😡 — 暖气坏了 — التدفئة لا تعمل 🔥"
    form = sms_form(body, sender="+447400100005")
    message = _adapt(form)
    assert message.body == body
    assert message.raw is not None
    assert urlencode({"Body": body}).encode() in message.raw  # the bytes as Twilio sent them


def test_a_short_code_or_alphanumeric_sender_is_kept_as_it_came() -> None:
    message = _adapt(sms_form("Your parcel is on its way", sender="PARCELCO"))
    assert message.sender_phone is None
    assert message.sender_address == "PARCELCO"
