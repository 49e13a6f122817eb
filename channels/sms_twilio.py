"""Outbound SMS acknowledgements through the real `twilio` client.

`INTAKE_TWILIO_API_BASE_URL` lets a stand-in, or a self-hosted gateway that speaks Twilio's REST
API, take Twilio's place. The library has no base-URL setting (its domains are generated with
`https://api.twilio.com` built in), so the supported hook is used instead: a custom `http_client`
(twilio-python's advanced-examples/custom-http-client.md) — `TwilioHttpClient` with one change, the
scheme and host of each request URL.

The transport is `PooledHttpClient`: the same hook, talking to urllib3's connection pool (what
`requests` uses underneath) without `requests`' per-request session merging, which cost a worker
more CPU than everything else about a text (≈ 1.4 ms of ≈ 1.5 ms a send, issue 14). It fails as
`requests` does — the same exception types for the same urllib3 errors — so `send` decides
temporary / uncertain / permanent exactly as before. A proxy from the environment keeps the
`requests` client, which knows how to use one.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

import certifi
import requests
import urllib3
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from channels.base import (
    OutboundAcknowledgement,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    UncertainSendError,
)
from channels.errors import ConfigurationError
from channels.settings import DEFAULT_CONCURRENT_SENDS
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


def rewrite_to_base(base: SplitResult | None, url: str) -> str:
    """`url` with its scheme, host and a path prefix taken from `base` when it is a Twilio URL."""
    target = urlsplit(url)
    if base is None or not (target.hostname or "").endswith("twilio.com"):
        return url
    return urlunsplit((base.scheme, base.netloc, base.path + target.path, target.query, target.fragment))


class BaseUrlHttpClient(TwilioHttpClient):
    """`TwilioHttpClient` sending every `https://*.twilio.com` request to another base URL."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = urlsplit(base_url.rstrip("/"))

    def rewrite(self, url: str) -> str:
        return rewrite_to_base(self.base, url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.rewrite(url), *args, **kwargs)


class PooledHttpClient(HttpClient):
    """The `twilio` library's HTTP client hook over one urllib3 connection pool manager.

    What `TwilioHttpClient` sends — the library's headers, HTTP Basic auth, the form body, the same
    timeout for connecting and for reading — and what it answers, without building a `requests`
    session request (cookies, hooks, environment merging) for every text. Thread-safe: a batch's
    texts are sent from several threads at once over the pooled keep-alive connections.
    `base_url`: another host for `https://*.twilio.com` requests (a stand-in or a gateway).
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        kept_connections: int = DEFAULT_CONCURRENT_SENDS,
    ) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), False, timeout)
        self.base = urlsplit(base_url.rstrip("/")) if base_url else None
        # Certificates as `requests` finds them: its environment variables, else certifi's bundle.
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        # A kept connection for every sending thread (the sender's `concurrent_sends`): with fewer,
        # each thread beyond the pool's size opened a connection a text and threw it away (urllib3
        # does not wait for a free one), a TCP and TLS handshake every time (issue 14).
        self.pool = urllib3.PoolManager(maxsize=kept_connections, cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle)
        self._authorizations: dict[tuple[str, str], str] = {}

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        self.log_request({"method": method.upper(), "url": url, "params": params, "headers": headers})
        target = rewrite_to_base(self.base, url)
        query = _form(params)
        if query:
            target += ("&" if urlsplit(target).query else "?") + query
        sent = {**_REQUESTS_HEADERS, **(headers or {})}
        body: bytes | None = None
        if headers and headers.get("Content-Type") in ("application/json", "application/scim+json"):
            body = json.dumps(data).encode("utf-8") if data is not None else None
        elif data:
            body = _form(data).encode("ascii")
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth is not None:
            sent["Authorization"] = self._authorization(auth)
        response = self._urlopen(method.upper(), target, body, sent, timeout, allow_redirects)
        charset = _charset(response.headers.get("Content-Type", ""))
        answer = Response(response.status, response.data.decode(charset, "replace"), response.headers)
        self.log_response(answer.status_code, answer)
        self._test_only_last_response = answer
        return answer

    def _authorization(self, auth: tuple[str, str]) -> str:
        known = self._authorizations.get(auth)
        if known is None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode("latin-1")).decode("ascii")
            known = self._authorizations.setdefault(auth, f"Basic {token}")
        return known

    def _urlopen(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float | None,
        allow_redirects: bool,
    ) -> urllib3.BaseHTTPResponse:
        """urllib3's answer, its body read, or the exception `requests` raises for the same failure."""
        try:
            response = self.pool.urlopen(
                method, url, body=body, headers=headers, redirect=allow_redirects, assert_same_host=False,
                preload_content=False, decode_content=False, retries=Retry(0, read=False),
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
            )
        except (ProtocolError, OSError) as error:
            raise requests.ConnectionError(error) from error
        except MaxRetryError as error:
            reason = error.reason
            if isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError):
                raise requests.ConnectTimeout(error) from error
            if isinstance(reason, urllib3.exceptions.SSLError):
                raise requests.exceptions.SSLError(error) from error
            raise requests.ConnectionError(error) from error
        except urllib3.exceptions.SSLError as error:
            raise requests.exceptions.SSLError(error) from error
        except ReadTimeoutError as error:
            raise requests.ReadTimeout(error) from error
        try:  # as `requests` reads a body: a broken or stalled one is a connection error
            response.read(decode_content=True, cache_content=True)
        except ProtocolError as error:
            raise requests.exceptions.ChunkedEncodingError(error) from error
        except ReadTimeoutError as error:
            raise requests.ConnectionError(error) from error
        finally:
            response.release_conn()
        return response


# The headers `requests` adds to every request; the library's own (User-Agent, Accept, ...) win.
_REQUESTS_HEADERS = {"Accept-Encoding": "gzip, deflate", "Accept": "*/*", "Connection": "keep-alive"}


def _form(values: dict[str, object] | None) -> str:
    """A form or query string as `requests` encodes one: a list repeats its key, None is left out."""
    if not values:
        return ""
    pairs: list[tuple[str, object]] = []
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            pairs += [(key, each) for each in value if each is not None]
        elif value is not None:
            pairs.append((key, value))
    return urlencode(pairs)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"'")
    return "utf-8"


class TwilioSmsSender:
    """Sends one acknowledgement as a text; raises Temporary/PermanentSendError for the pipeline.

    One per process (the runtime keeps it), so its `requests` session keeps its connections to
    Twilio alive between texts; it may be called from several threads at once (urllib3's pool is
    thread-safe), which is how a batch's texts overlap their round trips.
    """

    name = "sms"

    def __init__(
        self,
        client: Client,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback: str | None,
        concurrent_sends: int = DEFAULT_CONCURRENT_SENDS,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ConfigurationError(
                "set INTAKE_TWILIO_FROM_NUMBER or INTAKE_TWILIO_MESSAGING_SERVICE_SID to send texts"
            )
        self.client = client
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.concurrent_sends = concurrent_sends  # how many threads may call `send` at once

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSmsSender:
        twilio = settings.twilio
        if not twilio.account_sid or twilio.auth_token is None:
            raise ConfigurationError(
                "set INTAKE_TWILIO_ACCOUNT_SID and INTAKE_TWILIO_AUTH_TOKEN to send texts"
            )
        base_url = None if twilio.api_base_url.rstrip("/") == TWILIO_API_BASE_URL else twilio.api_base_url
        http_client: HttpClient
        if requests.utils.get_environ_proxies(twilio.api_base_url):  # `requests` knows proxies
            http_client = (
                BaseUrlHttpClient(base_url, timeout=twilio.timeout_seconds)
                if base_url
                else TwilioHttpClient(timeout=twilio.timeout_seconds)
            )
            read_environment_once(http_client, twilio.api_base_url)
        else:
            http_client = PooledHttpClient(
                base_url=base_url, timeout=twilio.timeout_seconds, kept_connections=twilio.concurrent_sends
            )
        client = Client(twilio.account_sid, twilio.auth_token.get_secret_value(), http_client=http_client)
        return cls(
            client,
            from_number=twilio.from_number,
            messaging_service_sid=twilio.messaging_service_sid,
            status_callback=settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH,
            concurrent_sends=twilio.concurrent_sends,
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
