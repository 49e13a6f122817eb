"""Where models live and the overridable review threshold, read from an environment mapping passed in.

Nothing here reads `os.environ`: the caller hands over the environment it wants read (the
`Classifier` and `ModelRegistry` are given one, the process environment by default), so tests and
the service pass their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Protocol

from classifier.errors import ClassifierError

MODEL_DIR_ENV = "INTAKE_MODEL_DIR"
REVIEW_THRESHOLD_ENV = "INTAKE_REVIEW_THRESHOLD"
DEFAULT_MODEL_DIR = Path("var/models")

# Routed items must be right at least this often (cross-validated on TRAIN) when the review
# threshold is chosen at training time.
TARGET_ROUTED_ACCURACY = 0.95

# Text past this many characters adds nothing to a triage decision and only costs time; the
# original stays untouched for staff.
MAX_MODEL_CHARS = 20_000


class Clock(Protocol):
    """Where "now" comes from: time is an input (the service passes its runtime's clock, tests a fixed one)."""

    def now(self) -> datetime:
        """The current moment, aware, in UTC."""
        ...


def default_model_dir(environ: Mapping[str, str]) -> Path:
    return Path(environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR)


def review_threshold_override(environ: Mapping[str, str]) -> float | None:
    """The threshold from INTAKE_REVIEW_THRESHOLD, or None; a bad value is an error, not ignored."""
    raw = environ.get(REVIEW_THRESHOLD_ENV)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError as error:
        raise ClassifierError(f"{REVIEW_THRESHOLD_ENV}={raw!r} is not a number between 0 and 1") from error
    if not 0.0 <= value <= 1.0:
        raise ClassifierError(f"{REVIEW_THRESHOLD_ENV}={raw!r} is not a number between 0 and 1")
    return value
