"""A small real HTTP server on loopback that plays Twilio's Messages REST API.

The real `twilio` library talks to it over HTTP (INTAKE_TWILIO_API_BASE_URL points here). It
records the requests the library really makes and answers as Twilio does: 201 with a Message
resource, or Twilio's error JSON (`{"code", "message", "more_info", "status"}`). It can be told to
fail the next N requests with a 5xx, to answer a number with a Twilio error code (21610
unsubscribed, 21614 landline, …), or to stall longer than the client's timeout.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20500: "Internal Server Error",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
}
GSM_SEGMENT, UCS2_SEGMENT = 153, 67  # characters per part of a concatenated text


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    username: str | None  # the account SID from Basic auth
    password: str | None
    at: float  # time.monotonic() when it arrived
    answered: int  # the HTTP status the stand-in gave


@dataclass
class _Behaviour:
    failures_left: int = 0
    failure_status: int = 503
    stall_seconds: float = 0.0
    stalls_left: int = 0
    refusals: dict[str, int] = field(default_factory=dict)  # E.164 number -> Twilio error code


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a worker's 32 texts connecting at once overflowed it,
    # and Linux reset some of the connections (a flaky "connection reset by peer" in the pool test).
    request_queue_size = 128


class TwilioStandIn:
    """`with TwilioStandIn(account_sid, auth_token) as twilio: ... twilio.url ...`"""

    def __init__(self, account_sid: str, auth_token: str, *, latency_seconds: float = 0.0) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        # How long each message request takes to answer, as Twilio's API does over the internet
        # (benchmarks: a worker waits for its sends); 0 answers as fast as it can.
        self.latency_seconds = latency_seconds
        self.requests: list[RecordedRequest] = []
        self.connections = 0  # TCP connections accepted: a client that keeps its connections alive opens few
        self._behaviour = _Behaviour()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-standin", daemon=True)

    # --- lifecycle ---

    def start(self) -> TwilioStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> TwilioStandIn:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- what tests tell it ---

    def fail_next(self, count: int, *, status: int = 503) -> None:
        """Answer the next `count` message requests with a Twilio-shaped 5xx."""
        with self._lock:
            self._behaviour.failures_left, self._behaviour.failure_status = count, status

    def refuse(self, number: str, *, code: int) -> None:
        """Answer every text to `number` with Twilio error `code` (HTTP 400), as Twilio does."""
        with self._lock:
            self._behaviour.refusals[number] = code

    def stall_next(self, count: int, *, seconds: float) -> None:
        """Hold the next `count` requests for `seconds` before answering (for client timeouts)."""
        with self._lock:
            self._behaviour.stalls_left, self._behaviour.stall_seconds = count, seconds

    # --- what tests read back ---

    @property
    def messages(self) -> list[RecordedRequest]:
        """Message-create requests that Twilio would have accepted (answered 201)."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/Messages.json") and r.answered == 201]

    def messages_to(self, number: str) -> list[RecordedRequest]:
        return [r for r in self.messages if r.form.get("To") == number]

    def wait_for_messages(self, count: int, *, timeout: float = 60.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                accepted = [
                    r for r in self.requests if r.path.endswith("/Messages.json") and r.answered == 201
                ]
                remaining = deadline - time.monotonic()
                if len(accepted) >= count or remaining <= 0:
                    return accepted
                self._arrived.wait(remaining)

    # --- the fake API itself ---

    def answer(
        self, method: str, path: str, form: dict[str, str], auth: tuple[str, str] | None
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            behaviour = self._behaviour
            stall = behaviour.stall_seconds if behaviour.stalls_left > 0 else 0.0
            behaviour.stalls_left = max(0, behaviour.stalls_left - 1)
        if stall or self.latency_seconds:
            time.sleep(stall or self.latency_seconds)
        if auth != (self.account_sid, self.auth_token):
            return 401, _error(20003, 401)
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if method != "POST" or path != expected:
            return 404, _error(20404, 404)
        with self._lock:
            if behaviour.failures_left > 0:
                behaviour.failures_left -= 1
                return behaviour.failure_status, _error(20500, behaviour.failure_status)
            refusal = behaviour.refusals.get(form.get("To", ""))
        if refusal is not None:
            return 400, _error(refusal, 400)
        return 201, self._message_resource(form)

    def _message_resource(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        body = form.get("Body", "")
        per_part = GSM_SEGMENT if body.isascii() else UCS2_SEGMENT
        now = formatdate(usegmt=False)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(max(1, -(-len(body) // per_part))),
            "price": None,
            "price_unit": "GBP",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form.get("To"),
            "uri": uri,
        }

    def record(self, request: RecordedRequest) -> None:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()


def _error(code: int, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": ERROR_MESSAGES.get(code, HTTPStatus(status).phrase),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    username, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    return username, password


def _handler_for(standin: TwilioStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as requests' connection pool expects
        # Headers and body go in two writes: with Nagle's algorithm the body waited for the client's
        # delayed ACK, 40 ms an answer on a kept connection, which Twilio does not add.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with standin._lock:
                standin.connections += 1

        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            form = dict(parse_qsl(body, keep_blank_values=True))
            auth = _basic_auth(self.headers.get("Authorization"))
            path = self.path.split("?", 1)[0]
            arrived = time.monotonic()
            status, payload = standin.answer(self.command, path, form, auth)
            standin.record(
                RecordedRequest(
                    method=self.command,
                    path=path,
                    headers=dict(self.headers.items()),
                    form=form,
                    username=auth[0] if auth else None,
                    password=auth[1] if auth else None,
                    at=arrived,
                    answered=status,
                )
            )
            content = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
            try:
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting (a timeout test): as with Twilio

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return  # quiet: the recorded requests are the log

    return Handler
