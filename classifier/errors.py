"""The classifier's own errors. It imports nothing above it: intake catches them beside its own
(intake.errors.SERVICE_ERRORS) and maps them to HTTP and CLI messages at the top."""

from __future__ import annotations


class ClassifierError(Exception):
    """Base of every error the classifier raises on purpose."""


class ModelNotFoundError(ClassifierError):
    """No trained model in the model directory (or not the version asked for)."""


class UntrustedModelError(ClassifierError):
    """A saved model holds object types outside the allow-list, so it is not loaded."""


class DataFormatError(ClassifierError):
    """A labelled-data file has a malformed line; the message names the file and line."""


class InvalidInputError(ClassifierError):
    """The text passed to classify() is not text at all (e.g. bytes, None)."""
