"""Fixtures for the intake tests: the Twilio stand-in and an SMS-capable runtime (from tests/channels)."""

from tests.channels.twilio_support import sms_runtime, twilio_standin  # noqa: F401  (fixtures, found by name)
