"""Outbound SMS acknowledgements through the real `twilio` client.

`INTAKE_TWILIO_API_BASE_URL` lets a stand-in, or a self-hosted gateway that speaks Twilio's REST
API, take Twilio's place. The library has no base-URL setting (its domains are generated with
`https://api.twilio.com` built in), so the supported hook is used instead: a custom `http_client`
(twilio-python's advanced-examples/custom-http-client.md) — `TwilioHttpClient` with one change, the
scheme and host of each request URL.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from channels.base import (
    OutboundAcknowledgement,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    UncertainSendError,
)
from channels.errors import ConfigurationError
from channels.settings import ChannelSettings as Settings

log = logging.getLogger(__name__)

TWILIO_API_BASE_URL = "https://api.twilio.com"
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
# Twilio error codes meaning "this number will never take a text from us": retrying cannot help.
#   21610 unsubscribed (replied STOP)   21614 not a mobile number   21211 invalid 'To' number
#   21408 region not enabled            21612 no route from our number to theirs
UNREACHABLE_RECIPIENT_CODES = frozenset({21610, 21614, 21211, 21408, 21612})
# HTTP answers that say "try again later": rate limiting and Twilio's own failures.
TEMPORARY_STATUSES = frozenset({408, 429})


class BaseUrlHttpClient(TwilioHttpClient):
    """`TwilioHttpClient` sending every `https://*.twilio.com` request to another base URL."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = urlsplit(base_url.rstrip("/"))

    def rewrite(self, url: str) -> str:
        target = urlsplit(url)
        if not (target.hostname or "").endswith("twilio.com"):
            return url
        return urlunsplit(
            (self.base.scheme, self.base.netloc, self.base.path + target.path, target.query, target.fragment)
        )

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.rewrite(url), *args, **kwargs)


class TwilioSmsSender:
    """Sends one acknowledgement as a text; raises Temporary/PermanentSendError for the pipeline.

    One per process (the runtime keeps it), so its `requests` session keeps its connections to
    Twilio alive between texts; it may be called from several threads at once (urllib3's pool is
    thread-safe), which is how a batch's texts overlap their round trips.
    """

    name = "sms"
    concurrent_sends = True

    def __init__(
        self,
        client: Client,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback: str | None,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ConfigurationError(
                "set INTAKE_TWILIO_FROM_NUMBER or INTAKE_TWILIO_MESSAGING_SERVICE_SID to send texts"
            )
        self.client = client
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSmsSender:
        twilio = settings.twilio
        if not twilio.account_sid or twilio.auth_token is None:
            raise ConfigurationError(
                "set INTAKE_TWILIO_ACCOUNT_SID and INTAKE_TWILIO_AUTH_TOKEN to send texts"
            )
        http_client = (
            TwilioHttpClient(timeout=twilio.timeout_seconds)
            if twilio.api_base_url.rstrip("/") == TWILIO_API_BASE_URL
            else BaseUrlHttpClient(twilio.api_base_url, timeout=twilio.timeout_seconds)
        )
        read_environment_once(http_client, twilio.api_base_url)
        client = Client(twilio.account_sid, twilio.auth_token.get_secret_value(), http_client=http_client)
        return cls(
            client,
            from_number=twilio.from_number,
            messaging_service_sid=twilio.messaging_service_sid,
            status_callback=settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH,
        )

    def send(self, acknowledgement: OutboundAcknowledgement) -> SendResult:
        # A messaging service picks the sending number itself; From is only used without one.
        sender = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        try:
            message = self.client.messages.create(
                to=acknowledgement.recipient,
                body=acknowledgement.body_text,
                status_callback=self.status_callback,
                **sender,
            )
        except TwilioRestException as error:
            raise _classify_rest_error(error, acknowledgement) from error
        except requests.ConnectTimeout as error:  # never reached Twilio: safe to send again
            raise TemporarySendError(f"Twilio did not answer: {type(error).__name__}: {error}") from error
        except requests.ReadTimeout as error:  # sent, no answer: Twilio may have accepted it
            raise UncertainSendError(f"Twilio did not answer in time: {type(error).__name__}") from error
        except requests.ConnectionError as error:
            if _lost_after_sending(error):
                raise UncertainSendError(f"the connection to Twilio broke after sending: {error}") from error
            raise TemporarySendError(f"Twilio did not answer: {type(error).__name__}: {error}") from error
        except TwilioException as error:  # e.g. an answer that is not JSON from a gateway
            raise TemporarySendError(f"Twilio client error: {error}") from error
        log.info("SMS acknowledgement %s accepted as %s", acknowledgement.acknowledgement_id, message.sid)
        return SendResult(provider_id=message.sid, status="queued")


def read_environment_once(http_client: TwilioHttpClient, base_url: str) -> None:
    """Settle the proxy and CA-bundle environment when the sender is built, not on every text.

    `requests` (trust_env) walks the whole environment for HTTPS_PROXY, NO_PROXY and a CA bundle on
    each request: a third of the CPU a text cost the worker (cProfile, issue 14). The same answers,
    read once for the one host the sender talks to, are handed to the session instead.
    """
    session = http_client.session
    if session is None:
        return
    http_client.proxy = {**requests.utils.get_environ_proxies(base_url), **http_client.proxy}
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False


def _lost_after_sending(error: requests.ConnectionError) -> bool:
    """True when the request went out and the connection then broke ("Connection aborted")."""
    import urllib3.exceptions

    reason = error.args[0] if error.args else None
    return isinstance(reason, urllib3.exceptions.ProtocolError)


def _classify_rest_error(
    error: TwilioRestException, acknowledgement: OutboundAcknowledgement
) -> TemporarySendError | PermanentSendError:
    described = f"Twilio answered {error.status} (code {error.code}): {error.msg}"
    if error.code in UNREACHABLE_RECIPIENT_CODES:
        return PermanentSendError(described, code=str(error.code))
    if error.status >= 500 or error.status in TEMPORARY_STATUSES:
        return TemporarySendError(described)
    if error.status == 401:
        # Our credentials, not the resident's number: retrying after the fix will work.
        log.error("Twilio refused the credentials: check INTAKE_TWILIO_ACCOUNT_SID and _AUTH_TOKEN")
        return TemporarySendError(described)
    # Not `described`: Twilio's message can quote the resident's number; logs carry ids and codes only.
    log.warning("SMS acknowledgement %s refused: Twilio %s code %s", acknowledgement.acknowledgement_id,
                error.status, error.code)
    return PermanentSendError(described, code=str(error.code) if error.code else None)
