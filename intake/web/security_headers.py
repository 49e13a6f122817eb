"""Security headers on every response, as pure ASGI middleware (no BaseHTTPMiddleware: it buffers
and breaks streaming and background tasks).

- Browser pages get the Content-Security-Policy and the anti-framing/sniffing headers.
- Everything carrying residents' data (the JSON API, the staff workspace with its raw-message and
  attachment downloads) gets `Cache-Control: no-store`, so no browser or proxy keeps a copy.
- When the public address is https, every response carries Strict-Transport-Security, so a browser
  that has seen the site once never talks to it over plain http again.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere, no third-party origin: the product works offline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
BROWSER_PREFIXES = ("/contact", "/staff", "/static")
PERSONAL_DATA_PREFIXES = ("/api/", "/staff")
HSTS_VALUE = "max-age=31536000; includeSubDomains"  # one year, the value ASVS and the HSTS preload list expect


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if path.startswith(BROWSER_PREFIXES):
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                    headers.setdefault("X-Content-Type-Options", "nosniff")
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Referrer-Policy", "same-origin")
                if path.startswith(PERSONAL_DATA_PREFIXES):
                    headers.setdefault("Cache-Control", "no-store")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
            await send(message)

        await self.app(scope, receive, send_with_headers)
