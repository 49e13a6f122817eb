"""Email acknowledgements over SMTP: a plain + HTML message that no robot will answer.

Each message says it is automatic twice over — `Auto-Submitted: auto-replied` (RFC 3834) and
`X-Auto-Response-Suppress: All` (Exchange/Outlook) — so out-of-office replies stay quiet; it
threads under the resident's email (`In-Reply-To`, `References`), carries the reference in its
subject, and its Message-ID is returned as the provider id so a reply to it finds the case.

Every header value that came from outside (subject, recipient, Message-IDs) is cleaned first: a
CR or LF smuggled into a subject can never start a header of its own.

Failures: a 4xx reply, a dropped connection, a timeout or refused login → `TemporarySendError`
(the job retries with back-off; a login problem is usually a setting someone will fix); a 5xx reply
to the recipient or the message → `PermanentSendError` with the SMTP code.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from channels.base import OutboundAcknowledgement, PermanentSendError, SendResult, TemporarySendError
from channels.email_headers import clean_header_text, is_valid_message_id, safe_address
from channels.errors import ConfigurationError
from channels.settings import ChannelSettings as Settings

MAX_REFERENCES = 20  # the most recent ids of a long thread are enough to thread it
MAX_SUBJECT = 250
IMPLICIT_TLS_PORT = 465


class SmtpSender:
    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        user: str | None = None,
        password: str | None = None,
        from_address: str,
        starttls: bool = True,
        timeout: float = 20.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        display_name, address = parseaddr(from_address)
        try:
            self.sender = safe_address(address)
        except ValueError as error:
            raise ConfigurationError(f"INTAKE_SMTP_FROM is not a usable address: {error}") from error
        self.from_header = Address(
            display_name=clean_header_text(display_name, limit=100), addr_spec=self.sender.addr_spec
        )
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.ssl_context = ssl_context

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        smtp = settings.smtp
        if not smtp.host:
            raise ConfigurationError("INTAKE_SMTP_HOST is not set")
        return cls(
            host=smtp.host,
            port=smtp.port,
            user=smtp.user,
            password=smtp.password.get_secret_value() if smtp.password else None,
            from_address=smtp.from_address,
            starttls=smtp.starttls,
            timeout=smtp.timeout_seconds,
        )

    # --- the message -------------------------------------------------------------------------

    def build_message(self, acknowledgement: OutboundAcknowledgement) -> EmailMessage:
        try:
            recipient = safe_address(acknowledgement.recipient)
        except ValueError as error:
            raise PermanentSendError(str(error), code="invalid-recipient") from error
        message = EmailMessage(policy=SMTP)
        message["From"] = self.from_header
        message["To"] = recipient
        message["Subject"] = _subject(acknowledgement)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self.sender.domain)
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
        if is_valid_message_id(acknowledgement.in_reply_to):
            message["In-Reply-To"] = acknowledgement.in_reply_to
        references = [ref for ref in acknowledgement.references if is_valid_message_id(ref)]
        if is_valid_message_id(acknowledgement.in_reply_to) and acknowledgement.in_reply_to not in references:
            references.append(acknowledgement.in_reply_to)  # type: ignore[arg-type]
        if references:
            message["References"] = " ".join(list(dict.fromkeys(references))[-MAX_REFERENCES:])
        message.set_content(acknowledgement.body_text)
        message.add_alternative(
            acknowledgement.body_html or _html_from_text(acknowledgement.body_text), subtype="html"
        )
        return message

    # --- sending -----------------------------------------------------------------------------

    def send(self, acknowledgement: OutboundAcknowledgement) -> SendResult:
        message = self.build_message(acknowledgement)
        message_id = str(message["Message-ID"])
        try:
            with self._connect() as connection:
                refused = connection.send_message(
                    message,
                    from_addr=self.sender.addr_spec,
                    to_addrs=[str(message["To"].addresses[0].addr_spec)],
                )
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise _by_code(code, f"recipient refused: {code} {_text(reply)}") from error
        except smtplib.SMTPAuthenticationError as error:
            raise TemporarySendError(
                f"SMTP login refused ({error.smtp_code}): check INTAKE_SMTP_USER and INTAKE_SMTP_PASSWORD"
            ) from error
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as error:  # the server, not the message
            raise TemporarySendError(
                f"the SMTP server refused the session: {error.smtp_code} {_text(error.smtp_error)}"
            ) from error
        except smtplib.SMTPResponseException as error:  # sender refused, message refused…
            raise _by_code(error.smtp_code, f"{error.smtp_code} {_text(error.smtp_error)}") from error
        except smtplib.SMTPNotSupportedError as error:
            raise TemporarySendError(
                f"the SMTP server does not support what is configured: {error}"
            ) from error
        except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
            raise TemporarySendError(
                f"could not talk to the SMTP server: {type(error).__name__}: {error}"
            ) from error
        if refused:  # send_message raises when every recipient is refused; this is belt and braces
            code, reply = next(iter(refused.values()))
            raise _by_code(code, f"recipient refused: {code} {_text(reply)}")
        return SendResult(provider_id=message_id, status="sent")

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.port == IMPLICIT_TLS_PORT:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                connection.ehlo()
                if self.starttls:
                    connection.starttls(context=context)
                    connection.ehlo()
            except BaseException:
                connection.close()
                raise
        if self.user:
            try:
                connection.login(self.user, self.password or "")
            except BaseException:
                connection.close()
                raise
        return connection


def _subject(acknowledgement: OutboundAcknowledgement) -> str:
    subject = clean_header_text(acknowledgement.subject or "We have received your message", limit=MAX_SUBJECT)
    reference = clean_header_text(acknowledgement.reference, limit=40)
    if reference and reference not in subject:
        subject = f"[{reference}] {subject}"
    return subject


def _html_from_text(text: str) -> str:
    paragraphs = [html.escape(chunk).replace("\n", "<br>\n") for chunk in text.split("\n\n") if chunk.strip()]
    return (
        "<!doctype html>\n<html><body>\n"
        + "\n".join(f"<p>{p}</p>" for p in paragraphs)
        + "\n</body></html>\n"
    )


def _by_code(code: int, message: str) -> Exception:
    if 500 <= code < 600:
        return PermanentSendError(message, code=str(code))
    return TemporarySendError(message)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
