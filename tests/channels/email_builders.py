"""Emails for the tests, built with the standard library the way a mail client would write them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

_numbers = itertools.count(1)


def new_message_id(domain: str = "mail.example.net") -> str:
    return make_msgid(idstring=f"t{next(_numbers)}", domain=domain)


def build_email(
    body: str,
    *,
    sender: str = "Pat Resident <pat.resident@example.net>",
    to: str = "complaints@riverside-homes.example",
    subject: str = "Repair",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    date: datetime | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = message_id or new_message_id()
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
