"""Fingerprints and masked hints: how privacy records name a person without keeping who they are."""

from __future__ import annotations

import hashlib
import hmac

from intake.settings import Settings


def normalise(value: str) -> str:
    return value.strip().lower()


def fingerprint(settings: Settings, value: str) -> str:
    """A keyed hash: the same person always gives the same value; it cannot be read back or guessed offline."""
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, f"subject:{normalise(value)}".encode(), hashlib.sha256).hexdigest()


def mask(value: str) -> str:
    """'p***@e***.com', '+44*******123', 'contact 12': enough for staff to tell requests apart."""
    value = value.strip()
    if "@" in value:
        local, _, domain = value.partition("@")
        name, dot, tld = domain.rpartition(".")
        return f"{local[:1]}***@{(name or tld)[:1]}***{dot}{tld if name else ''}"
    if value.startswith("+") or value.isdigit():
        return value[:3] + "*" * max(0, len(value) - 6) + value[-3:]
    return value[:1] + "***"
