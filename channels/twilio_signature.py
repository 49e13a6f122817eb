"""Checking Twilio's webhook signature: `X-Twilio-Signature` is an HMAC of the URL Twilio called and
the form fields, keyed with the account's auth token. Pure; the endpoint that reads the request and
answers 403 is intake/api/webhooks/twilio_signature.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urlparse

from twilio.request_validator import RequestValidator, add_port, compare, remove_port

SIGNATURE_HEADER = "X-Twilio-Signature"


class FormValues(dict[str, list[str]]):
    """Each field's values in order, with the `getall` the validator asks a multi-dict for."""

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, str]]) -> FormValues:
        values = cls()
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        return values

    def getall(self, name: str) -> list[str]:
        return self[name]


def signed_url(base_url: str, path: str, query: str) -> str:
    """The URL Twilio signed: our public base (not whatever host a proxy forwarded to), the path, the query."""
    url = base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def signature_problem(
    *, token: str, signature: str, url: str, pairs: Sequence[tuple[str, str]]
) -> str | None:
    """None when `signature` is Twilio's for this URL and form; else what is wrong, for the log."""
    if not token:
        return "no auth token configured"
    if not signature:
        return "missing signature"
    # The validator takes a multi-dict so a repeated field is signed exactly as Twilio signed it.
    if not twilio_accepts(_validator(token), url, FormValues.of(pairs), signature):
        return "bad signature"
    return None


def twilio_accepts(validator: RequestValidator, url: str, form: FormValues, signature: str) -> bool:
    """`RequestValidator.validate` for a form (HMAC-SHA1, Twilio's default), which computes the
    signature for the URL both without and with its port every time (Twilio signs either,
    inconsistently): here the one without first, the other only when that one does not match.
    Same acceptance, half the HMACs on every genuine webhook to a URL without a port (issue 14)."""
    parsed = urlparse(url)
    if compare(validator.compute_signature(remove_port(parsed), form), signature):
        return True
    return bool(compare(validator.compute_signature(add_port(parsed), form), signature))


@lru_cache(maxsize=8)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)
