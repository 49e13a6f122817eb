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


def verified_form(
    runtime: Runtime, raw: bytes, *, path: str, query: str, signature: str, client_host: str
) -> dict[str, str]:
    """A Twilio webhook's fields once its signature is checked (403 Forbidden when it is missing or
    wrong; 422 when the body is not UTF-8 form data). The one check both ways in are served by: the
    FastAPI dependency below and intake/api/webhooks/twilio_fast_path.py."""
    try:
        pairs = form_pairs(raw)
    except UnicodeDecodeError as error:
        raise InvalidMessage("a Twilio webhook body must be UTF-8 form data") from error
    twilio = runtime.settings.twilio
    if twilio.skip_signature_validation and runtime.settings.environment != "production":
        return first_values(pairs)
    if twilio.skip_signature_validation:
        log.error("INTAKE_TWILIO_SKIP_SIGNATURE_VALIDATION is ignored in production")
    problem = signature_problem(
        token=twilio.auth_token.get_secret_value() if twilio.auth_token else "",
        signature=signature,
        url=signed_url(runtime.settings.public_base_url, path, query),
        pairs=pairs,
    )
    if problem:
        log.warning("refused a Twilio webhook to %s from %s: %s", path, client_host, problem)
        raise Forbidden("the X-Twilio-Signature does not match this request")
    return first_values(pairs)


async def signed_twilio_form(request: Request) -> SignedForm:
    """Read and check a Twilio webhook; a missing or wrong signature is refused with 403."""
    runtime: Runtime = request.app.state.runtime  # as RuntimeDep reads it, without a second dependency
    groups: IngestGroups = request.app.state.ingest_groups
    raw = await read_limited(request, runtime.settings.max_body_bytes)
    fields = verified_form(
        runtime,
        raw,
        path=request.url.path,
        query=request.url.query,
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        client_host=request.client.host if request.client else "unknown",
    )
    return SignedForm(fields=fields, raw=raw, runtime=runtime, groups=groups)


SignedFormDep = Annotated[SignedForm, Depends(signed_twilio_form)]
