"""One error hierarchy for the service; mapped to HTTP in one place (intake/api/errors.py)."""

from __future__ import annotations


class IntakeError(Exception):
    """Base of every error the service raises on purpose."""


class ConfigurationError(IntakeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


class InvalidMessage(IntakeError):
    """An inbound payload cannot be accepted (missing field, unknown channel, too large)."""


class NotFound(IntakeError):
    """The thing asked for does not exist."""


class NotAuthorised(IntakeError):
    """Missing or wrong credentials."""


class Forbidden(IntakeError):
    """Known caller, not allowed to do this."""


class InvalidTransition(IntakeError):
    """A case action that the item's current state does not allow (e.g. escalate a closed case)."""


class PayloadTooLarge(InvalidMessage):
    """A body over the configured size limit."""
