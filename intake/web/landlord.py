"""The landlord's name and phone numbers for pages, from the policy profile (None when it won't load)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from intake.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LandlordDetails:
    name: str
    phone: str
    emergency_phone: str
    email: str


def landlord_details(runtime: Runtime) -> LandlordDetails | None:
    try:
        policy = runtime.policy
    except Exception as error:  # a page must not fail because the policy profile is misconfigured
        log.error("policy profile unavailable: %s", error)
        return None
    contact = policy.contact
    return LandlordDetails(
        name=policy.landlord_name,
        phone=contact.phone,
        emergency_phone=contact.emergency_repairs_phone,
        email=contact.email,
    )
