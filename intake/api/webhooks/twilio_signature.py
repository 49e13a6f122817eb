"""The dependency every Twilio webhook runs first: read the body (size-limited) and check its signature.

The URL checked is the public one Twilio knows (`INTAKE_PUBLIC_BASE_URL` + path), see
channels/twilio_signature.py; a missing or wrong signature is refused with 403.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from channels.sms import first_values, form_pairs
from channels.twilio_signature import SIGNATURE_HEADER, signature_problem, signed_url
from intake.api.inbound import read_limited
from intake.errors import Forbidden, InvalidMessage
from intake.ingest_groups import IngestGroups
from intake.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedForm:
    """A webhook's form fields, once the signature has been checked, and the body as it arrived,
    with the app's runtime and group writer: a webhook route then has this one dependency (each
    dependency FastAPI solves is CPU on every webhook; issue 14)."""

    fields: dict[str, str]
    raw: bytes
    runtime: Runtime
    groups: IngestGroups


def public_url(base_url: str, request: Request) -> str:
    """The URL Twilio signed: our public base, the path, and the query string if there was one."""
    return signed_url(base_url, request.url.path, request.url.query)


async def signed_twilio_form(request: Request) -> SignedForm:
    """Read and check a Twilio webhook; a missing or wrong signature is refused with 403."""
    runtime: Runtime = request.app.state.runtime  # as RuntimeDep reads it, without a second dependency
    groups: IngestGroups = request.app.state.ingest_groups
    raw = await read_limited(request, runtime.settings.max_body_bytes)
    try:
        pairs = form_pairs(raw)
    except UnicodeDecodeError as error:
        raise InvalidMessage("a Twilio webhook body must be UTF-8 form data") from error
    twilio = runtime.settings.twilio
    if twilio.skip_signature_validation and runtime.settings.environment != "production":
        return SignedForm(fields=first_values(pairs), raw=raw, runtime=runtime, groups=groups)
    if twilio.skip_signature_validation:
        log.error("INTAKE_TWILIO_SKIP_SIGNATURE_VALIDATION is ignored in production")
    problem = signature_problem(
        token=twilio.auth_token.get_secret_value() if twilio.auth_token else "",
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        url=public_url(runtime.settings.public_base_url, request),
        pairs=pairs,
    )
    if problem:
        log.warning(
            "refused a Twilio webhook to %s from %s: %s",
            request.url.path,
            request.client.host if request.client else "unknown",
            problem,
        )
        raise Forbidden("the X-Twilio-Signature does not match this request")
    return SignedForm(fields=first_values(pairs), raw=raw, runtime=runtime, groups=groups)


SignedFormDep = Annotated[SignedForm, Depends(signed_twilio_form)]
