"""A sender that writes acknowledgements to files: the default when no SMTP or Twilio is configured.

It lets `make run` and `intake demo` show real acknowledgements on a bare machine; each file is
what would have gone out (var/outbox/<channel>/<ack id>.txt).
"""

from __future__ import annotations

from pathlib import Path

from channels.base import OutboundAcknowledgement, SendResult


class OutboxSender:
    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.directory = directory / name

    def send(self, acknowledgement: OutboundAcknowledgement) -> SendResult:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{acknowledgement.acknowledgement_id:08d}.txt"
        lines = [f"To: {acknowledgement.recipient}"]
        if acknowledgement.subject:
            lines.append(f"Subject: {acknowledgement.subject}")
        lines += ["", acknowledgement.body_text]
        path.write_text("\n".join(lines), encoding="utf-8")
        return SendResult(provider_id=f"outbox:{path.name}", status="sent")
