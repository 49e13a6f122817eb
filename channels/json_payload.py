"""A JSON body read into a pydantic model, or a `Refused` naming exactly what was wrong with it."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from channels.base import Refused

PayloadModel = TypeVar("PayloadModel", bound=BaseModel)
# Dates a message may carry: later computations (deadlines, references, reports) stay in range.
EARLIEST_RECEIVED_AT = datetime(1990, 1, 1, tzinfo=UTC)
LATEST_RECEIVED_AT = datetime(2999, 12, 31, tzinfo=UTC)


def parse_json(
    raw: bytes, model: type[PayloadModel], *, what: str, channel: str, content_type: str = "application/json"
) -> PayloadModel | Refused:
    """The payload as `model`, or why it is not one (for the refused payload's record and the 422)."""
    try:
        return model.model_validate(strict_json_loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError, ValidationError) as error:
        return Refused(reason=describe(error, what), channel=channel, content_type=content_type)


def strict_json_loads(text: str) -> object:
    """JSON as the standard defines it: no NaN or Infinity, no number too large for a float (1e400),
    and (from the json module itself) no integer over 4,300 digits. Nesting too deep raises
    RecursionError. Each is a refusal of the payload, never a 500."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:20]}… is too large")
    return value


def without_nul(value: Any) -> Any:
    """PostgreSQL cannot store NUL in text or jsonb: it becomes U+FFFD (the raw payload keeps it)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def describe(error: Exception, what: str) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"the body is not valid UTF-8 (byte {error.start})"
    if isinstance(error, json.JSONDecodeError):
        return f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, RecursionError):
        return "the body is not acceptable JSON: it is nested too deeply"
    if not isinstance(error, ValidationError):
        return f"the body is not acceptable JSON: {error}"
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()[:10]]
    return f"invalid {what}: " + "; ".join(problems)
