"""The classifier's errors: part of the service's one hierarchy (intake.errors.IntakeError)."""

from __future__ import annotations

from intake.errors import IntakeError


class ClassifierError(IntakeError):
    """Base of every error the classifier raises on purpose."""


class ModelNotFoundError(ClassifierError):
    """No trained model in the model directory (or not the version asked for)."""


class UntrustedModelError(ClassifierError):
    """A saved model holds object types outside the allow-list, so it is not loaded."""


class DataFormatError(ClassifierError):
    """A labelled-data file has a malformed line; the message names the file and line."""


class InvalidInputError(ClassifierError):
    """The text passed to classify() is not text at all (e.g. bytes, None)."""
