"""A small local OAuth2 token service standing in for Entra ID (login.microsoftonline.com) and for
Exchange's own check of the token, so the OAuth2 mail tests run offline against real servers.

- `POST /<tenant>/oauth2/v2.0/token` — the client-credentials grant, answered the way Entra ID
  answers: a JWT-shaped access token carrying the app's granted `roles`, or an error with its
  AADSTS code (unknown tenant or app, wrong secret, a scope that is not `/.default`). The app
  proves itself with its secret or with a client assertion signed by its certificate's key
  (checked: signature, `x5t` thumbprint, issuer, audience, expiry).
- `GET /introspect` with `Authorization: Bearer <token>` — RFC 7662-style introspection, used by
  Dovecot's `oauth2` passdb (`introspection_mode = auth`) and by the aiosmtpd XOAUTH2
  authenticator: `{"active": true, "username": <mailbox>}` only for a known, unexpired, unrevoked
  token whose app holds the required role. Dovecot compares that one username with the login name,
  so an app here is granted one mailbox per service — enough to model Exchange's per-mailbox
  permission (a token for another mailbox is refused).

Tokens are not signed: the service recognises its own by lookup. The client reads the `roles`
claim only to explain a refusal, as it would with Microsoft's tokens.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from channels.email_oauth2 import IMAP_ROLE, SMTP_ROLE

SCOPE = "https://outlook.office365.com/.default"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class App:
    tenant: str
    client_id: str
    secret: str
    roles: list[str] = field(default_factory=lambda: [IMAP_ROLE, SMTP_ROLE])
    mailbox: str | None = None  # the one mailbox this app was given access to (Add-MailboxPermission)
    certificate: x509.Certificate | None = None  # uploaded under Certificates & secrets


@dataclass
class Issued:
    app: App
    expires_at: float
    roles: list[str]
    revoked: bool = False


class TokenService:
    """Runs on a free loopback port in a thread; `stop()` makes it unreachable (refused connections)."""

    def __init__(self, *, lifetime: int = 3600) -> None:
        self.lifetime = lifetime
        self.clock: Callable[[], float] = time.time  # tests move the service's time on
        self.apps: dict[tuple[str, str], App] = {}
        self.tokens: dict[str, Issued] = {}
        self.token_requests = 0
        self.introspections = 0
        self.outage = False  # True: the token endpoint answers 503 with an HTML page, as a gateway does
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="token-service")
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def introspection_url(self) -> str:
        return f"{self.base_url}/introspect"

    def token_endpoint(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}/oauth2/v2.0/token"

    def register(self, tenant: str, client_id: str, secret: str, *, mailbox: str | None, roles: list[str] | None = None) -> App:
        app = App(tenant, client_id, secret, mailbox=mailbox)
        if roles is not None:
            app.roles = list(roles)
        self.apps[(tenant, client_id)] = app
        return app

    def revoke_all(self) -> None:
        """Every token issued so far stops working (a secret rotated, a session revoked)."""
        with self._lock:
            for issued in self.tokens.values():
                issued.revoked = True

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- the two endpoints -------------------------------------------------------------------

    def issue(self, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            return 400, _error("unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
        if not any(app.tenant == tenant for app in self.apps.values()):
            return 400, _error("invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        app = self.apps.get((tenant, form.get("client_id", "")))
        if app is None:
            return 400, _error(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found in the "
                f"directory '{tenant}'.",
            )
        if form.get("client_assertion_type") == JWT_BEARER:
            problem = self._assertion_problem(app, form.get("client_assertion", ""), tenant)
            if problem:
                return 401, _error("invalid_client", problem)
        elif not secrets.compare_digest(form.get("client_secret", ""), app.secret):
            return 401, _error(
                "invalid_client",
                f"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
            )
        if form.get("scope") != SCOPE:
            return 400, _error(
                "invalid_scope",
                f"AADSTS1002012: The provided value for scope {form.get('scope')} is not valid. Client credential "
                "flows must have a scope value with /.default suffixed to the resource identifier.",
            )
        expires_at = self.clock() + self.lifetime
        claims = {
            "aud": "https://outlook.office365.com",
            "tid": tenant,
            "appid": app.client_id,
            "roles": app.roles,
            "exp": int(expires_at),
            "jti": secrets.token_urlsafe(12),
        }
        token = ".".join(
            [_b64({"typ": "JWT", "alg": "none"}), _b64(claims), base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")]
        )
        with self._lock:
            self.tokens[token] = Issued(app, expires_at, list(app.roles))
        body = {"token_type": "Bearer", "expires_in": self.lifetime, "ext_expires_in": self.lifetime, "access_token": token}
        return 200, body

    def _assertion_problem(self, app: App, assertion: str, tenant: str) -> str | None:
        """Why a certificate-signed client assertion is refused (None: it is good), as Entra ID checks it."""
        if app.certificate is None:
            return "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found.]"
        try:
            header_part, payload_part, signature_part = assertion.split(".")
            header = json.loads(_unb64(header_part))
            claims = json.loads(_unb64(payload_part))
            thumbprint = base64.urlsafe_b64encode(app.certificate.fingerprint(hashes.SHA1())).decode().rstrip("=")
            if header.get("x5t") != thumbprint:
                return "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found.]"
            public_key = app.certificate.public_key()
            assert isinstance(public_key, rsa.RSAPublicKey)
            public_key.verify(
                _unb64(signature_part), f"{header_part}.{payload_part}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (ValueError, InvalidSignature, AssertionError):
            return "AADSTS700027: Client assertion contains an invalid signature."
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            return "AADSTS700023: Client assertion audience claim does not match Realm issuer."
        if claims.get("aud") != self.token_endpoint(tenant) or float(claims.get("exp", 0)) <= self.clock():
            return "AADSTS700024: Client assertion is not within its valid time range or has a wrong audience."
        return None

    def introspect(self, token: str, role: str = IMAP_ROLE) -> dict[str, Any]:
        with self._lock:
            self.introspections += 1
            issued = self.tokens.get(token)
        if (
            issued is None
            or issued.revoked
            or issued.expires_at <= self.clock()
            or role not in issued.roles
            or issued.app.mailbox is None
        ):
            return {"active": False}
        return {"active": True, "username": issued.app.mailbox, "client_id": issued.app.client_id}


def _error(error: str, description: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"{description} Trace ID: {secrets.token_hex(8)} Timestamp: 2026-12-05 01:00:00Z",
        "error_codes": [int(description.split(":")[0].removeprefix("AADSTS"))],
    }


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _handler(service: TokenService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
            return

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            if service.outage:
                page = b"<html><body>Service Unavailable</body></html>"
                self.send_response(503)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            parts = self.path.strip("/").split("/")
            if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
                self._send(*service.issue(parts[0], form))
            else:
                self._send(404, {"error": "not_found"})

        def do_GET(self) -> None:  # noqa: N802
            path, _, query = self.path.partition("?")
            authorization = self.headers.get("Authorization", "")
            if path != "/introspect" or not authorization.startswith("Bearer "):
                self._send(401, {"active": False})
                return
            role = parse_qs(query).get("role", [IMAP_ROLE])[0]
            self._send(200, service.introspect(authorization.removeprefix("Bearer ").strip(), role))

    return Handler
