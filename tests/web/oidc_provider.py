"""A stand-in OpenID provider on 127.0.0.1 for the single sign-on tests: discovery document, JWKS,
an authorisation endpoint that signs the person straight in, and a token endpoint that checks the
code, the client secret and the PKCE verifier before handing out an ID token signed with its key.

It is a real HTTP server (the service talks to it over the network stack, as it would to Entra ID);
nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "intake-workspace"
CLIENT_SECRET = "stand-in-client-secret-for-tests"


@dataclass
class StandInProvider:
    issuer: str
    key: RSAKey
    email: str = "aisha.khan@landlord.example"  # who "signs in" at the provider next
    claims_override: dict[str, Any] = field(default_factory=dict)  # to send a wrong nonce, audience...
    signing_key: RSAKey | None = None  # to sign with a key the JWKS does not publish
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: int = 0

    def id_token(self, grant: dict[str, str]) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "entra-object-id-" + self.email.split("@")[0],
            "email": self.email,
            "name": "Aisha Khan",
            "nonce": grant["nonce"],
            "iat": now,
            "exp": now + 300,
        }
        claims.update(self.claims_override)
        key = self.signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _handler(provider: StandInProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # quiet test output

        def _json(self, status: int, value: dict[str, Any]) -> None:
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            if url.path.endswith("/.well-known/openid-configuration"):
                self._json(200, {
                    "issuer": provider.issuer,
                    "authorization_endpoint": provider.issuer + "/authorize",
                    "token_endpoint": provider.issuer + "/token",
                    "jwks_uri": provider.issuer + "/keys",
                    "response_types_supported": ["code"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                })
            elif url.path.endswith("/keys"):
                self._json(200, KeySet([provider.key]).as_dict(private=False))
            elif url.path.endswith("/authorize"):
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                code = secrets.token_urlsafe(16)
                provider.codes[code] = query
                target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802
            provider.token_requests += 1
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            grant = provider.codes.pop(form.get("code", ""), None)
            if grant is None or form.get("grant_type") != "authorization_code":
                return self._json(400, {"error": "invalid_grant"})
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return self._json(401, {"error": "invalid_client"})
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant.get("code_challenge_method") != "S256" or challenge != grant.get("code_challenge"):
                return self._json(400, {"error": "invalid_grant", "error_description": "PKCE verifier"})
            if form.get("redirect_uri") != grant.get("redirect_uri"):
                return self._json(400, {"error": "invalid_grant", "error_description": "redirect_uri"})
            self._json(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                             "id_token": provider.id_token(grant)})

    return Handler


@contextmanager
def stand_in_provider() -> Iterator[StandInProvider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    issuer = f"http://127.0.0.1:{server.server_address[1]}/tenant-id/v2.0"
    provider = StandInProvider(issuer=issuer, key=RSAKey.generate_key(2048, auto_kid=True))
    server.RequestHandlerClass = _handler(provider)
    thread = threading.Thread(target=server.serve_forever, name="oidc-stand-in", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
