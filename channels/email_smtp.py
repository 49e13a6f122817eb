"""Email acknowledgements over SMTP: a plain + HTML message that no robot will answer.

Each acknowledgement says it is automatic twice over — `Auto-Submitted: auto-replied` (RFC 3834) and
`X-Auto-Response-Suppress: All` (Exchange/Outlook) — so out-of-office replies stay quiet (a reply a
person wrote keeps only the second: RFC 3834 keeps `Auto-Submitted` for machine-written mail); it
threads under the resident's email (`In-Reply-To`, `References`), carries the reference in its
subject, and its Message-ID is returned as the provider id so a reply to it finds the case.

Every header value that came from outside (subject, recipient, Message-IDs) is cleaned first: a
CR or LF smuggled into a subject can never start a header of its own.

Sign-in: a user name and password, or OAuth2 (Microsoft 365: a client-credentials token over
SASL XOAUTH2 as the mailbox sent from; a refused token is replaced once, then the refusal is named —
see channels/email_oauth2.py).

Failures: a 4xx reply, a dropped connection, a timeout or refused login → `TemporarySendError`
(the job retries with back-off; a login problem is usually a setting someone will fix); a 5xx reply
to the recipient or the message → `PermanentSendError` with the SMTP code.
"""

from __future__ import annotations

import contextlib
import html
import smtplib
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from channels.base import (
    OutboundAcknowledgement,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    UncertainSendError,
)
from channels.email_headers import clean_header_text, is_valid_message_id, safe_address
from channels.email_oauth2 import (
    SMTP_ROLE,
    MailAuthError,
    OAuth2Credentials,
    TokenProvider,
    diagnose_refusal,
    xoauth2_response,
)
from channels.errors import ConfigurationError
from channels.settings import ChannelSettings as Settings

MAX_REFERENCES = 20  # the most recent ids of a long thread are enough to thread it
MAX_SUBJECT = 250
IMPLICIT_TLS_PORT = 465


class SmtpSettingsError(ConfigurationError):
    """The SMTP settings cannot work (no host, an unusable From address, OAuth2 half set up)."""


class SmtpSender:
    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        user: str | None = None,
        password: str | None = None,
        token_provider: TokenProvider | None = None,
        from_address: str,
        starttls: bool = True,
        timeout: float = 20.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        display_name, address = parseaddr(from_address)
        try:
            self.sender = safe_address(address)
        except ValueError as error:
            raise SmtpSettingsError(f"INTAKE_SMTP_FROM is not a usable address: {error}") from error
        self.from_header = Address(
            display_name=clean_header_text(display_name, limit=100), addr_spec=self.sender.addr_spec
        )
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.token_provider = token_provider
        if token_provider is not None and not user:
            self.user = self.sender.addr_spec  # OAuth2 signs in as the mailbox it sends from
        self.starttls = starttls
        self.timeout = timeout
        self.ssl_context = ssl_context
        # Inside `batch()`: the signed-in connection this thread's sends share (see `batch`).
        self._batch = threading.local()

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        """From the settings channels are handed (`.smtp`, `.email`)."""
        smtp = settings.smtp
        if not smtp.host:
            raise SmtpSettingsError("INTAKE_SMTP_HOST is not set")
        token_provider = None
        if settings.email.smtp_auth == "oauth2":
            app = settings.email.app
            missing = [f"INTAKE_EMAIL_{name.upper()}" for name in ("tenant_id", "client_id") if not getattr(app, name)]
            if not app.client_secret and not app.certificate_path:
                missing.append("INTAKE_EMAIL_CLIENT_SECRET (or _CERTIFICATE_PATH)")
            if missing:
                raise SmtpSettingsError(f"INTAKE_EMAIL_SMTP_AUTH is oauth2 but {', '.join(missing)} is not set")
            assert app.tenant_id and app.client_id  # narrowed by the check above
            try:
                certificate = app.certificate_path.read_text() if app.certificate_path else None
            except OSError as error:
                raise SmtpSettingsError(f"cannot read the client certificate {app.certificate_path}") from error
            token_provider = TokenProvider(
                OAuth2Credentials(
                    tenant_id=app.tenant_id,
                    client_id=app.client_id,
                    client_secret=app.client_secret.get_secret_value() if app.client_secret else None,
                    certificate_pem=certificate,
                    token_endpoint=app.token_endpoint or None,
                    scope=app.scope,
                ),
                timeout=smtp.timeout_seconds,
            )
        return cls(
            host=smtp.host,
            port=smtp.port,
            user=smtp.user,
            password=smtp.password.get_secret_value() if smtp.password and token_provider is None else None,
            token_provider=token_provider,
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
        message["Date"] = format_datetime(acknowledgement.written_at.astimezone(UTC))
        message["Message-ID"] = make_msgid(domain=self.sender.domain)
        if acknowledgement.automatic:
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

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Sends inside share one connection, signed in once, instead of one each (TLS and the
        sign-in cost more than a message); closed at the end, and dropped after any failure so a
        connection in an unknown state is never used again."""
        self._batch.active = True
        try:
            yield
        finally:
            self._batch.active = False
            connection, self._batch.connection = getattr(self._batch, "connection", None), None
            if connection is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    connection.quit()

    def send(self, acknowledgement: OutboundAcknowledgement) -> SendResult:
        message = self.build_message(acknowledgement)
        message_id = str(message["Message-ID"])
        connection: _TrackingSMTP | None = None
        batching = getattr(self._batch, "active", False)
        try:
            if batching:
                # Held by this send until it succeeds: a failed one closes it (below), never shares it.
                connection, self._batch.connection = getattr(self._batch, "connection", None), None
            connection = connection or self._connect()
            connection.data_started = False
            if batching:
                try:
                    refused = self._send_on(connection, message)
                except BaseException:
                    connection.close()
                    raise
                self._batch.connection = connection
            else:
                with connection:
                    refused = self._send_on(connection, message)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise _by_code(code, f"recipient refused: {code} {_text(reply)}") from error
        except MailAuthError as error:  # OAuth2: named, and a setting someone will fix
            raise TemporarySendError(f"SMTP sign-in failed: {error.code}: {error}") from error
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
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            if connection is not None and connection.data_started:
                # The message went over (or was going over) and no answer came back: the server may
                # have accepted it, so sending again could deliver it twice.
                raise UncertainSendError(
                    f"the SMTP server did not answer after the message was sent: {type(error).__name__}"
                ) from error
            raise TemporarySendError(
                f"could not talk to the SMTP server: {type(error).__name__}: {error}"
            ) from error
        except (smtplib.SMTPException, ssl.SSLError) as error:
            raise TemporarySendError(
                f"could not talk to the SMTP server: {type(error).__name__}: {error}"
            ) from error
        if refused:  # send_message raises when every recipient is refused; this is belt and braces
            code, reply = next(iter(refused.values()))
            raise _by_code(code, f"recipient refused: {code} {_text(reply)}")
        return SendResult(provider_id=message_id, status="sent")

    def _send_on(self, connection: _TrackingSMTP, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        return connection.send_message(
            message, from_addr=self.sender.addr_spec, to_addrs=[str(message["To"].addresses[0].addr_spec)]
        )

    def _connect(self) -> _TrackingSMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.port == IMPLICIT_TLS_PORT:
            connection: _TrackingSMTP = _TrackingSMTPSSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            connection = _TrackingSMTP(self.host, self.port, timeout=self.timeout)
            try:
                connection.ehlo()
                if self.starttls:
                    connection.starttls(context=context)
                    connection.ehlo()
            except BaseException:
                connection.close()
                raise
        if self.user or self.token_provider is not None:
            try:
                self._sign_in(connection)
            except BaseException:
                connection.close()
                raise
        return connection

    def check(self) -> None:
        """Connect and sign in, send nothing (`intake email check`). Raises like `send` does."""
        try:
            with self._connect():
                pass
        except MailAuthError:
            raise
        except smtplib.SMTPAuthenticationError as error:
            raise MailAuthError(
                f"SMTP login refused ({error.smtp_code}): check INTAKE_SMTP_USER and INTAKE_SMTP_PASSWORD"
            ) from None

    def _sign_in(self, connection: smtplib.SMTP) -> None:
        provider = self.token_provider
        if provider is None:
            connection.login(self.user or "", self.password or "")
            return
        user = self.user or self.sender.addr_spec
        token = provider.token()
        try:
            _xoauth2(connection, user, token)
            return
        except smtplib.SMTPAuthenticationError:
            pass  # once more with a new token: the cached one may have been revoked or expired early
        token = provider.refresh(refused=token)
        try:
            _xoauth2(connection, user, token)
        except smtplib.SMTPAuthenticationError:
            raise diagnose_refusal(token, role=SMTP_ROLE, user=user, service="SMTP") from None


def _xoauth2(connection: smtplib.SMTP, user: str, token: str) -> None:
    # After a refusal the server sends a 334 with an error description; the answer is an empty line.
    def respond(challenge: bytes | None = None) -> str:
        return xoauth2_response(user, token) if challenge is None else ""

    connection.auth("XOAUTH2", respond, initial_response_ok=True)


class _TrackingSMTP(smtplib.SMTP):
    """smtplib.SMTP that remembers whether the DATA stage began (after which a lost connection
    leaves it unknown whether the server took the message)."""

    data_started = False

    def data(self, msg):  # type: ignore[no-untyped-def]
        self.data_started = True
        return super().data(msg)


class _TrackingSMTPSSL(_TrackingSMTP, smtplib.SMTP_SSL):
    pass


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
