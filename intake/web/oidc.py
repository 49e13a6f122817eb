"""Optional single sign-on: OpenID Connect's authorisation code flow (with PKCE), with Authlib.

Most landlords run Microsoft Entra ID; any OpenID provider works (Google, Okta, Keycloak). It is on
when INTAKE_OIDC_ISSUER and INTAKE_OIDC_CLIENT_ID are set (the secret comes from the environment
too: INTAKE_OIDC_CLIENT_SECRET); local passwords keep working beside it.

1. `/staff/login/oidc` reads the provider's discovery document, makes a state, a nonce and a PKCE
   verifier, keeps them in a short-lived signed cookie and sends the browser to the provider.
2. The provider sends the browser back to `/staff/login/oidc/callback` with a code. The state must
   match the cookie's; the code is exchanged (with the client secret and the PKCE verifier) at the
   token endpoint; the ID token's signature is checked against the provider's published keys (JWKS)
   and its issuer, audience, expiry and nonce against what we expect, with the runtime's clock.
3. The token's email (Entra ID: `email`, else the `preferred_username` sign-in address) must be on
   an existing, active staff account (`intake.users.single_sign_on_user`). Nobody gets an account or
   a role from the provider: an admin gives both first, on the Users page.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from intake.runtime import Runtime
from intake.settings import OidcSettings

log = logging.getLogger(__name__)

FLOW_COOKIE = "intake_oidc_flow"
FLOW_SECONDS = 600  # time to sign in at the provider before the attempt must start again
DISCOVERY_SECONDS = 3600  # the provider's endpoints and keys are read again after this
HTTP_TIMEOUT_SECONDS = 10
CALLBACK_PATH = "/staff/login/oidc/callback"
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]  # never "none" nor HS* with a public key
CLOCK_LEEWAY_SECONDS = 120


class SingleSignOnFailed(Exception):
    """The provider's answer cannot be trusted or used; the message is safe to show the person."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    keys: KeySet
    read_at: float


_providers: dict[str, Provider] = {}
_providers_lock = threading.Lock()


def _https_or_local(url: str) -> bool:
    # The provider's endpoints carry secrets: https, except a provider on this machine (tests, dev).
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"})


def provider(settings: OidcSettings, *, refresh: bool = False) -> Provider:
    """The provider's discovery document and keys, cached per process for DISCOVERY_SECONDS."""
    issuer = (settings.issuer or "").rstrip("/")
    with _providers_lock:
        cached = _providers.get(issuer)
        if cached is not None and not refresh and time.monotonic() - cached.read_at < DISCOVERY_SECONDS:
            return cached
    try:
        document = _get_json(f"{issuer}/.well-known/openid-configuration")
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise SingleSignOnFailed("the identity provider's discovery document names another issuer")
        endpoints = [document.get(name) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
        if not all(isinstance(url, str) and _https_or_local(url) for url in endpoints):
            raise SingleSignOnFailed("the identity provider's discovery document lacks an https endpoint")
        keys = KeySet.import_key_set(_get_json(str(document["jwks_uri"])))  # type: ignore[arg-type]
    except (requests.RequestException, ValueError, KeyError, JoseError) as error:
        log.warning("OpenID discovery failed: %s", type(error).__name__)
        raise SingleSignOnFailed("the identity provider could not be reached; try again or use your password") from None
    # The ID token's `iss` must equal the document's issuer exactly (some providers end it with "/").
    found = Provider(str(document["issuer"]), str(endpoints[0]), str(endpoints[1]), keys, time.monotonic())
    with _providers_lock:
        _providers[issuer] = found
    return found


def _get_json(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
    response.raise_for_status()
    value = response.json()
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _client(runtime: Runtime) -> OAuth2Session:
    settings = runtime.settings.oidc
    secret = settings.client_secret.get_secret_value() if settings.client_secret else None
    return OAuth2Session(
        client_id=settings.client_id,
        client_secret=secret,
        scope="openid email profile",
        redirect_uri=runtime.settings.public_base_url.rstrip("/") + CALLBACK_PATH,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post" if secret else "none",
    )


def _serializer(runtime: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime.settings.secret_key.get_secret_value(), salt="intake-oidc-flow")


def start(runtime: Runtime, *, next_url: str) -> tuple[str, str]:
    """(the provider's sign-in address to send the browser to, the signed flow cookie's value)."""
    found = provider(runtime.settings.oidc)
    flow = {"state": generate_token(32), "nonce": generate_token(32), "verifier": generate_token(64), "next": next_url}
    with _client(runtime) as client:
        url, _ = client.create_authorization_url(
            found.authorization_endpoint, state=flow["state"], code_verifier=flow["verifier"], nonce=flow["nonce"]
        )
    return url, _serializer(runtime).dumps(flow)


@dataclass(frozen=True)
class Identity:
    email: str
    subject: str
    next_url: str


def finish(runtime: Runtime, *, cookie: str | None, state: str, code: str) -> Identity:
    """Check the provider's answer and return who signed in; SingleSignOnFailed when anything is off."""
    try:
        flow = _serializer(runtime).loads(cookie or "", max_age=FLOW_SECONDS)
    except BadSignature:
        raise SingleSignOnFailed("this sign-in attempt has expired; start again") from None
    if not isinstance(flow, dict) or not hmac.compare_digest(str(flow.get("state", "")), state):
        raise SingleSignOnFailed("this sign-in attempt does not match this browser; start again")
    settings = runtime.settings.oidc
    found = provider(settings)
    try:
        with _client(runtime) as client:
            token = client.fetch_token(
                found.token_endpoint, code=code, code_verifier=flow["verifier"], timeout=HTTP_TIMEOUT_SECONDS
            )
    except (OAuthError, requests.RequestException, ValueError) as error:
        log.warning("OpenID token exchange failed: %s", type(error).__name__)
        raise SingleSignOnFailed("the identity provider did not accept this sign-in; start again") from None
    claims = _verified_claims(runtime, found, str(token.get("id_token") or ""), nonce=str(flow["nonce"]))
    email = claims.get("email") or claims.get("preferred_username") or ""
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        raise SingleSignOnFailed("the identity provider did not give a verified email address for your account")
    return Identity(email=email.strip().lower(), subject=str(claims.get("sub", "")), next_url=str(flow.get("next", "")))


def _verified_claims(runtime: Runtime, found: Provider, id_token: str, *, nonce: str) -> dict[str, Any]:
    settings = runtime.settings.oidc
    if not id_token:
        raise SingleSignOnFailed("the identity provider sent no ID token")
    try:
        try:
            decoded = jwt.decode(id_token, found.keys, algorithms=ID_TOKEN_ALGORITHMS)
        except JoseError:  # the provider may have rotated its keys since we read them
            decoded = jwt.decode(id_token, provider(settings, refresh=True).keys, algorithms=ID_TOKEN_ALGORITHMS)
        registry = jwt.JWTClaimsRegistry(
            now=int(runtime.clock.now().timestamp()),
            leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": found.issuer},
            aud={"essential": True, "value": settings.client_id or ""},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as error:
        log.warning("OpenID ID token refused: %s", type(error).__name__)
        raise SingleSignOnFailed("the identity provider's answer could not be verified; start again") from None
    return dict(decoded.claims)


def button_text(runtime: Runtime) -> str | None:
    """The sign-in page's single sign-on button, or None when single sign-on is not set up."""
    settings = runtime.settings.oidc
    return settings.button_text if settings.enabled else None


def forget_providers() -> None:
    """Drop the cached discovery documents (a test's provider goes away with the test)."""
    with _providers_lock:
        _providers.clear()
