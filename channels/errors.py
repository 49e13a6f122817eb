"""The channels' own errors. `intake` catches them beside its own (intake.errors.SERVICE_ERRORS)."""

from __future__ import annotations


class ChannelError(Exception):
    """Base of every error a channel adapter raises on purpose."""


class ConfigurationError(ChannelError):
    """A channel setting is missing or wrong; the message says which and how to fix it."""
