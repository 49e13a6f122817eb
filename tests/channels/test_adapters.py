"""Channel adapters are plain: bytes in, a message or a refusal out; the registry fails loudly."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from channels.api_items import ItemsApiAdapter
from channels.base import Refused
from channels.errors import ConfigurationError
from channels.message import InboundMessage
from channels.registry import INBOUND, resolve_inbound, resolve_sender
from channels.senders import sender_contacts
from intake.settings import Settings


def test_every_named_inbound_adapter_resolves_and_an_unknown_name_is_refused() -> None:
    for name in INBOUND:
        assert resolve_inbound(name).channel
    with pytest.raises(ConfigurationError, match="'fax'.*twilio_sms"):
        resolve_inbound("fax")


def test_an_unknown_outbound_channel_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'pigeon'"):
        resolve_sender("pigeon", Settings())


def test_the_sms_adapter_parses_a_form_and_refuses_bytes_that_are_not_utf8() -> None:
    adapter = resolve_inbound("twilio_sms")
    raw = urlencode({"MessageSid": "SM1", "From": "07911 123123", "Body": "boiler broken"}).encode()
    message = adapter.parse(raw, {})
    assert isinstance(message, InboundMessage)
    assert (message.external_id, message.sender_phone, message.body) == ("SM1", "+447911123123", "boiler broken")
    refused = adapter.parse(b"Body=\xff\xfe", {})
    assert isinstance(refused, Refused) and "UTF-8" in refused.reason


def test_the_items_adapter_namespaces_ids_and_refuses_an_item_without_one() -> None:
    adapter = ItemsApiAdapter(client_name="crm")
    item = {"channel": "web_form", "external_id": "42", "body": "hello", "sender": " Pat@Example.com "}
    message = adapter.parse(json.dumps(item).encode(), {"content-type": "application/json"})
    assert isinstance(message, InboundMessage)
    assert (message.external_id, message.sender_email) == ("crm:42", "pat@example.com")
    refused = adapter.parse(json.dumps({"channel": "web_form", "body": "hello"}).encode(), {})
    assert isinstance(refused, Refused) and "external_id is required" in refused.reason


@pytest.mark.parametrize(
    ("sender", "given", "expected"),
    [
        (" Pat@Example.COM ", {}, ("pat@example.com", "pat@example.com", None)),
        ("07911 123123", {}, ("+447911123123", None, "+447911123123")),
        ("07911 123123", {"email": "pat@example.com"}, ("pat@example.com", "pat@example.com", "+447911123123")),
        ("Housing Office", {}, ("Housing Office", None, None)),
        (None, {"phone": "+44 7911 123124"}, ("+447911123124", None, "+447911123124")),
    ],
)
def test_a_sender_is_cleaned_into_an_email_and_a_phone_once(
    sender: str | None, given: dict[str, str], expected: tuple[str | None, ...]
) -> None:
    contacts = sender_contacts(sender, **given)
    assert (contacts.address, contacts.email, contacts.phone) == expected
