"""Twilio webhooks arrive signed: `X-Twilio-Signature` is an HMAC of the URL Twilio called and the
form fields, keyed with the account's auth token. The URL is the public one Twilio knows
(`INTAKE_PUBLIC_BASE_URL` + path), not whatever host a proxy in front of us forwarded to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from channels.sms import first_values
from intake.api.deps import RuntimeDep
from intake.api.payloads import read_limited
from intake.errors import Forbidden, InvalidMessage

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


@dataclass(frozen=True)
class SignedForm:
    """A webhook's form fields, once the signature has been checked, and the body as it arrived."""

    fields: dict[str, str]
    raw: bytes


def public_url(base_url: str, request: Request) -> str:
    """The URL Twilio signed: our public base, the path, and the query string if there was one."""
    url = base_url.rstrip("/") + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


async def signed_twilio_form(request: Request, runtime: RuntimeDep) -> SignedForm:
    """Read and check a Twilio webhook; a missing or wrong signature is refused with 403."""
    raw = await read_limited(request, runtime.settings.max_body_bytes)
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as error:
        raise InvalidMessage("a Twilio webhook body must be UTF-8 form data") from error
    twilio = runtime.settings.twilio
    if twilio.skip_signature_validation and runtime.settings.environment != "production":
        return SignedForm(fields=first_values(pairs), raw=raw)
    if twilio.skip_signature_validation:
        log.error("INTAKE_TWILIO_SKIP_SIGNATURE_VALIDATION is ignored in production")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    url = public_url(runtime.settings.public_base_url, request)
    token = twilio.auth_token.get_secret_value() if twilio.auth_token else ""
    # The validator takes a multi-dict so a repeated field is signed exactly as Twilio signed it.
    if (
        not token
        or not signature
        or not RequestValidator(token).validate(url, ImmutableMultiDict(pairs), signature)
    ):
        log.warning(
            "refused a Twilio webhook to %s from %s: %s",
            request.url.path,
            request.client.host if request.client else "unknown",
            "no auth token configured"
            if not token
            else "missing signature"
            if not signature
            else "bad signature",
        )
        raise Forbidden("the X-Twilio-Signature does not match this request")
    return SignedForm(fields=first_values(pairs), raw=raw)


SignedFormDep = Annotated[SignedForm, Depends(signed_twilio_form)]
