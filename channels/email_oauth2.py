"""OAuth2 sign-in for mailboxes on Microsoft 365: client-credentials tokens, cached, and errors an
IT team can act on.

Exchange Online accepts no password for IMAP, and SMTP AUTH with a password is going the same way.
A connected app (an Entra ID app registration) asks the tenant's token endpoint for a token with the
client-credentials grant (Authlib's OAuth2 client does the request), then signs in to IMAP or SMTP
with SASL XOAUTH2 as the mailbox it was given access to. One `TokenProvider` per app registration
serves every mailbox that app reads: the token is cached, fetched again shortly before it expires,
and once more when a server refuses it (revoked, or expired early).

Failures are named (`MailAuthError.code`), because "AUTHENTICATE failed" tells a landlord's IT team
nothing: a wrong or expired secret, an unknown tenant or app, admin consent not granted (the token
carries no `IMAP.AccessAsApp` / `SMTP.SendAsApp` role), no access to the mailbox (the token is fine
but Exchange refuses it for that mailbox), or the token endpoint unreachable. Tokens and secrets
never appear in messages, logs or reprs.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

MICROSOFT_TOKEN_ENDPOINT = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
DEFAULT_SCOPE = "https://outlook.office365.com/.default"
IMAP_ROLE = "IMAP.AccessAsApp"
SMTP_ROLE = "SMTP.SendAsApp"
# Fetch a new token this long before the old one expires (or at half its life, if that is sooner),
# so that a poll never starts with a token about to run out mid-session.
REFRESH_MARGIN_SECONDS = 300.0

# Entra ID error codes (AADSTS…) and what the landlord's IT team should do about each.
_WRONG_SECRET = ("AADSTS7000215", "AADSTS7000222", "AADSTS7000216", "AADSTS700027")
_NOT_FOUND = ("AADSTS700016", "AADSTS90002", "AADSTS90023", "AADSTS900023")
_NO_CONSENT = ("AADSTS65001", "AADSTS501051", "AADSTS650057")


class MailAuthError(Exception):
    """A mailbox could not be signed in to. `code` names the cause; the message says what to do."""

    code = "login-refused"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class WrongSecret(MailAuthError):
    code = "wrong-secret"


class AppNotFound(MailAuthError):
    code = "wrong-tenant-or-client-id"


class ConsentNotGranted(MailAuthError):
    code = "consent-not-granted"


class NoMailboxAccess(MailAuthError):
    code = "no-mailbox-access"


class TokenEndpointUnreachable(MailAuthError):
    code = "token-endpoint-unreachable"


class TokenRefused(MailAuthError):
    code = "token-refused"


class LoginRefused(MailAuthError):
    code = "login-refused"


class CertificateUnusable(MailAuthError):
    code = "certificate-unusable"


@dataclass(frozen=True)
class OAuth2Credentials:
    """One Entra ID app registration (or any OAuth2 server offering the client-credentials grant).

    The app proves who it is with a client secret, or with a certificate: `certificate_pem` holds
    the private key and the certificate uploaded to the app registration (PEM), and each token
    request carries a JWT assertion signed with that key (`private_key_jwt`, with the certificate's
    SHA-1 thumbprint as `x5t`, as Entra ID asks)."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    token_endpoint: str | None = None  # default: Microsoft's for the tenant
    scope: str = DEFAULT_SCOPE
    certificate_pem: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.client_secret and not self.certificate_pem:
            raise ValueError(f"app {self.client_id} needs a client secret or a certificate")

    @property
    def endpoint(self) -> str:
        return self.token_endpoint or MICROSOFT_TOKEN_ENDPOINT.format(tenant=self.tenant_id)


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float
    lifetime: float


class TokenProvider:
    """Client-credentials tokens for one app registration: cached, refreshed before expiry.

    Thread-safe: the polling threads of several mailboxes share one provider, and one token.
    `clock` counts seconds (time is an input: tests move it forward). A token's life is a number of
    seconds from when it was fetched, not a date, so by default the machine's monotonic clock, which
    a change of the wall clock (NTP, daylight saving) does not move.
    """

    def __init__(
        self,
        credentials: OAuth2Credentials,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 20.0,
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.timeout = timeout
        self._token: _Token | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenProvider(client_id={self.credentials.client_id!r}, endpoint={self.credentials.endpoint!r})"

    def token(self) -> str:
        """A token valid for at least the refresh margin (fetched only when the cached one is not)."""
        with self._lock:
            if self._token is None or self._due(self._token):
                self._token = self._fetch()
            return self._token.value

    def refresh(self, refused: str | None = None) -> str:
        """A new token, because a server refused `refused`. Another thread may have fetched one
        already since that token was handed out; then that one is used, not a third."""
        with self._lock:
            if self._token is None or refused is None or self._token.value == refused:
                self._token = self._fetch()
            return self._token.value

    def _due(self, token: _Token) -> bool:
        margin = min(REFRESH_MARGIN_SECONDS, token.lifetime / 2)
        return self.clock() >= token.expires_at - margin

    def _fetch(self) -> _Token:
        credentials = self.credentials
        client = _session(credentials)
        where = _host_of(credentials.endpoint)
        try:
            with client:
                # With a certificate, Entra ID still wants the client_id in the body (Authlib's
                # private_key_jwt sends only the assertion); with a secret, client_secret_post adds it.
                extra = {"client_id": credentials.client_id} if credentials.certificate_pem else {}
                issued: dict[str, Any] = client.fetch_token(
                    credentials.endpoint, grant_type="client_credentials", timeout=self.timeout, **extra
                )
        except OAuthError as error:
            raise _named_token_error(error.error or "", error.description or "", credentials) from None
        except requests.HTTPError as error:
            status = error.response.status_code if error.response is not None else "?"
            raise TokenEndpointUnreachable(
                f"the token endpoint {where} answered HTTP {status} without a token; "
                "if this lasts, check the token endpoint setting and Microsoft 365 service health"
            ) from None
        except (requests.RequestException, OSError, ValueError) as error:
            raise TokenEndpointUnreachable(
                f"could not reach the token endpoint {where} ({type(error).__name__}); check the network, "
                "proxy and firewall allow HTTPS to it, and the token endpoint setting"
            ) from None
        value = issued.get("access_token")
        if not isinstance(value, str) or not value:
            raise TokenEndpointUnreachable(f"the token endpoint {where} answered without an access token")
        lifetime = float(issued.get("expires_in") or 3600)
        return _Token(value=value, expires_at=self.clock() + lifetime, lifetime=lifetime)


def _session(credentials: OAuth2Credentials) -> OAuth2Session:
    if not credentials.certificate_pem:
        return OAuth2Session(
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            scope=credentials.scope,
            token_endpoint_auth_method="client_secret_post",
        )
    key_pem, thumbprint = _certificate_parts(credentials.certificate_pem)
    client = OAuth2Session(
        client_id=credentials.client_id,
        client_secret=key_pem,
        scope=credentials.scope,
        token_endpoint_auth_method="private_key_jwt",
    )
    client.register_client_auth_method(PrivateKeyJWT(credentials.endpoint, headers={"x5t": thumbprint}))
    return client


def _certificate_parts(pem: str) -> tuple[str, str]:
    """(the private key as PEM, the certificate's SHA-1 thumbprint, base64url) from one PEM file."""
    try:
        data = pem.encode()
        key = serialization.load_pem_private_key(data, password=None)
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise CertificateUnusable(
            "the client certificate file must hold the private key (unencrypted) and the certificate, "
            "both PEM; see docs/channels/microsoft-365.md"
        ) from None
    thumbprint = certificate.fingerprint(hashes.SHA1())  # noqa: S303 - Entra ID's x5t is SHA-1 by definition
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, base64.urlsafe_b64encode(thumbprint).decode().rstrip("=")


def diagnose_refusal(token: str, *, role: str, user: str, service: str) -> MailAuthError:
    """Why a server refused a fresh token for `user`: the roles in the token say whether admin
    consent was granted; when it was, the app was not given access to this mailbox."""
    roles = token_roles(token)
    if roles is not None and role not in roles:
        return ConsentNotGranted(
            f"{service} refused the app's token for {user}: the token has no {role} permission. In Entra ID, "
            f"add the Office 365 Exchange Online application permission {role} to the app registration "
            "and grant admin consent"
        )
    return NoMailboxAccess(
        f"{service} refused the app's token for {user}: the app has not been given access to this mailbox. "
        "In Exchange Online PowerShell: New-ServicePrincipal for the app, then Add-MailboxPermission "
        f"-Identity {user} -User <service principal id> -AccessRights FullAccess"
        + ("; and SMTP AUTH must be enabled on the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false)"
           if service == "SMTP" else "")
    )


def token_roles(token: str) -> list[str] | None:
    """The `roles` claim of a JWT access token, read (not verified: the server does that) to explain
    a refusal; None when the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    roles = payload.get("roles", [])
    return [str(role) for role in roles] if isinstance(roles, list) else None


def xoauth2_response(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Microsoft and Google document it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


# How the token endpoint refuses, in the order checked: (Entra ID codes in the description, the
# OAuth2 error, the named error raised, what the landlord's IT team should do).
_TOKEN_REFUSALS: tuple[tuple[tuple[str, ...], str, type[MailAuthError], str], ...] = (
    (
        _NOT_FOUND, "unauthorized_client", AppNotFound,
        "the tenant {tenant} or app {client} was not found ({said}); "
        "check the tenant id and the application (client) id on the app's Overview page",
    ),
    (
        _WRONG_SECRET, "invalid_client", WrongSecret,
        "the token endpoint refused the client secret or certificate of app {client} "
        "({said}); create a new client secret under Certificates & secrets and set it (use its Value, "
        "not its ID), or upload the certificate whose key is configured",
    ),
    (
        _NO_CONSENT, "consent_required", ConsentNotGranted,
        "admin consent has not been granted to app {client} ({said}); in Entra ID, "
        "API permissions → Grant admin consent",
    ),
)


def _named_token_error(error: str, description: str, credentials: OAuth2Credentials) -> MailAuthError:
    # Entra's description starts with its AADSTS code; keep its first line (no secrets in it).
    said = description.splitlines()[0][:300] if description else error
    for codes, oauth_error, named, advice in _TOKEN_REFUSALS:
        if any(code in description for code in codes) or error == oauth_error:
            return named(advice.format(tenant=credentials.tenant_id, client=credentials.client_id, said=said))
    return TokenRefused(f"the token endpoint refused to issue a token ({said}); check the scope and app settings")


def _host_of(url: str) -> str:
    return urlsplit(url).netloc or url  # a token endpoint URL holds no secret
