"""Small factories for test data."""

from __future__ import annotations

import itertools
from datetime import datetime

from channels.message import InboundMessage

_counter = itertools.count(1)


def email_message(
    body: str, *, sender: str = "resident@example.com", subject: str = "Repair", **extra: object
) -> InboundMessage:
    number = next(_counter)
    return InboundMessage(
        channel="email",
        external_id=str(extra.pop("external_id", f"<msg-{number}@example.com>")),
        body=body,
        subject=subject,
        sender_address=sender,
        sender_email=sender,
        sender_name=str(extra.pop("sender_name", "Pat Resident")),
        **extra,  # type: ignore[arg-type]
    )


def sms_message(
    body: str, *, phone: str = "+447911123123", received_at: datetime | None = None, **extra: object
) -> InboundMessage:
    number = next(_counter)
    return InboundMessage(
        channel="sms",
        external_id=str(extra.pop("external_id", f"SM{number:032d}")),
        body=body,
        sender_address=phone,
        sender_phone=phone,
        received_at=received_at,
        **extra,  # type: ignore[arg-type]
    )
