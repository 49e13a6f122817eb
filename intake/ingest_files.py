"""Messages from files for `intake ingest` and `intake demo`."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from channels.message import InboundMessage
from channels.senders import sender_contacts
from intake.errors import InvalidMessage
from triage_rules.taxonomy import CHANNELS


def messages_from_file(
    path: Path, *, channel: str | None, now: datetime | None = None
) -> list[tuple[int, InboundMessage]]:
    """(line number, message) pairs. A .jsonl file is read line by line; anything else is one message.

    `now` (the runtime's clock) is what an email's Date header is checked against."""
    if not path.exists():
        raise InvalidMessage(f"no such file: {path}")
    if channel is not None and channel not in CHANNELS:
        raise InvalidMessage(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if path.suffix == ".jsonl":
        return list(_jsonl_messages(path, channel))
    if channel is None:
        raise InvalidMessage("say which channel this file came from with --channel")
    raw = path.read_bytes()
    if channel == "email" and path.suffix == ".eml":
        from channels.email_parse import parse_email

        return [(1, parse_email(raw, now=now))]
    return [
        (
            1,
            InboundMessage(
                channel=channel,
                external_id=f"file:{hashlib.sha256(raw).hexdigest()}",
                body=raw.decode("utf-8", "replace"),
                raw=raw,
            ),
        )
    ]


def _jsonl_messages(path: Path, channel: str | None):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise InvalidMessage(f"{path}:{number}: not valid JSON ({error})") from error
            if not isinstance(record, dict) or "body" not in record:
                raise InvalidMessage(f"{path}:{number}: expected an object with at least 'body'")
            yield (
                number,
                message_from_record(
                    record, channel=channel, raw=line.rstrip(b"\n"), fallback_id=f"{path.name}:{number}"
                ),
            )


def message_from_record(
    record: dict[str, Any], *, channel: str | None, raw: bytes | None = None, fallback_id: str = ""
) -> InboundMessage:
    """A record in the classifier's data format (id, channel, sender, sender_name, subject, body)."""
    sender = sender_contacts(record.get("sender"))
    return InboundMessage(
        channel=channel or record.get("channel") or "web_form",
        external_id=str(record.get("external_id") or record.get("id") or fallback_id),
        body=str(record.get("body") or ""),
        subject=record.get("subject") or None,
        sender_address=sender.address,
        sender_name=record.get("sender_name") or None,
        sender_email=sender.email,
        sender_phone=sender.phone,
        raw=raw,
        raw_content_type="application/json",
        ack_channel=record.get("ack_channel"),
    )
