"""Twilio's webhook signature check (channels/twilio_signature.py): the same acceptance as
twilio's `RequestValidator.validate`, with one HMAC instead of two for a genuine webhook."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from channels.twilio_signature import FormValues, signature_problem, twilio_accepts

TOKEN = "signature-test-token-0123456789ab"
PAIRS = [
    ("From", "+447700900123"),
    ("To", "+447480000001"),
    ("Body", "Mould in the back bedroom again"),
    ("MediaUrl0", "https://example.com/a.jpg"),
    ("MediaUrl0", "https://example.com/b.jpg"),  # a repeated field is signed with both values
]
URL = "https://intake.example.org/webhooks/twilio/sms"
URL_WITH_PORT = "https://intake.example.org:443/webhooks/twilio/sms"


def signed_for(url: str, pairs: list[tuple[str, str]] = PAIRS) -> str:
    return str(RequestValidator(TOKEN).compute_signature(url, FormValues.of(pairs)))


class CountingValidator(RequestValidator):  # type: ignore[misc]  # twilio has no type hints
    """twilio's own validator, counting the HMACs it computes."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.computed = 0

    def compute_signature(self, uri: str, params: Any, algorithm: str | None = None) -> str:
        self.computed += 1
        return str(super().compute_signature(uri, params, algorithm))


@pytest.mark.parametrize("signed_url", [URL, URL_WITH_PORT], ids=["signed-without-port", "signed-with-port"])
@pytest.mark.parametrize("our_url", [URL, URL_WITH_PORT], ids=["ours-without-port", "ours-with-port"])
def test_a_signature_for_either_url_form_is_accepted(signed_url: str, our_url: str) -> None:
    assert signature_problem(token=TOKEN, signature=signed_for(signed_url), url=our_url, pairs=PAIRS) is None


def test_a_bad_missing_or_unkeyed_signature_is_refused() -> None:
    other_body = [*PAIRS[:2], ("Body", "Mould in the front bedroom again"), *PAIRS[3:]]
    assert signature_problem(token=TOKEN, signature=signed_for(URL, other_body), url=URL, pairs=PAIRS) == (
        "bad signature"
    )
    assert signature_problem(token=TOKEN, signature=signed_for(URL + "?x=1"), url=URL, pairs=PAIRS) == (
        "bad signature"
    )
    assert signature_problem(token="another-token", signature=signed_for(URL), url=URL, pairs=PAIRS) == (
        "bad signature"
    )
    assert signature_problem(token=TOKEN, signature="", url=URL, pairs=PAIRS) == "missing signature"
    assert signature_problem(token="", signature=signed_for(URL), url=URL, pairs=PAIRS) == (
        "no auth token configured"
    )


def test_it_accepts_exactly_what_twilios_validator_accepts() -> None:
    urls = [
        URL,
        URL_WITH_PORT,
        URL + "?a=1&b=2",
        "http://intake.example.org/sms",
        "http://intake.example.org:8080/sms",
    ]
    forms = [PAIRS, PAIRS[:3], []]
    for url in urls:
        for pairs in forms:
            signatures = [signed_for(other, pairs) for other in urls] + ["not-a-signature", "é"]
            for signature in signatures:
                form = FormValues.of(pairs)
                ours = twilio_accepts(RequestValidator(TOKEN), url, form, signature)
                assert ours == RequestValidator(TOKEN).validate(url, form, signature), (url, pairs, signature)


def test_a_genuine_webhook_to_a_url_without_a_port_costs_one_hmac_not_two() -> None:
    validator = CountingValidator(TOKEN)
    assert twilio_accepts(validator, URL, FormValues.of(PAIRS), signed_for(URL))
    assert validator.computed == 1
    validator.computed = 0
    assert not twilio_accepts(validator, URL, FormValues.of(PAIRS), "not-a-signature")
    assert validator.computed == 2  # refused only once both forms fail
