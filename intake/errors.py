"""One error hierarchy for the service; mapped to HTTP in one place (intake/api/errors.py).

The packages below intake (channels, classifier, triage_rules) each have their own base error and
import nothing from here; `SERVICE_ERRORS` is the whole family, caught together at the top (the API's
error handlers, the CLIs).
"""

from __future__ import annotations

from channels.errors import ChannelError
from channels.errors import ConfigurationError as ChannelConfigurationError
from classifier.errors import ClassifierError
from triage_rules.errors import TriageRulesError


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


# Every error raised on purpose anywhere in the service: what the CLIs report as a clear message.
SERVICE_ERRORS: tuple[type[Exception], ...] = (IntakeError, ChannelError, ClassifierError, TriageRulesError)

__all__ = [
    "SERVICE_ERRORS",
    "ChannelConfigurationError",
    "ChannelError",
    "ClassifierError",
    "ConfigurationError",
    "Forbidden",
    "IntakeError",
    "InvalidMessage",
    "InvalidTransition",
    "NotAuthorised",
    "NotFound",
    "PayloadTooLarge",
    "TriageRulesError",
]
