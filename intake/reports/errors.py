"""Errors raised by the reports package (mapped to HTTP 400 / a CLI message like every IntakeError)."""

from __future__ import annotations

from intake.errors import IntakeError


class ReportError(IntakeError):
    """A report cannot be produced as asked."""


class InvalidPeriod(ReportError):
    """The period text is not one we understand; the message shows the accepted forms."""


class UnknownView(ReportError):
    """No report view has this name; the message lists the known ones."""
