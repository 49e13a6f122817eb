"""A JSON body read into a pydantic model, or a `Refused` naming exactly what was wrong with it."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from channels.base import Refused

PayloadModel = TypeVar("PayloadModel", bound=BaseModel)


def parse_json(
    raw: bytes, model: type[PayloadModel], *, what: str, channel: str, content_type: str = "application/json"
) -> PayloadModel | Refused:
    """The payload as `model`, or why it is not one (for the refused payload's record and the 422)."""
    try:
        return model.model_validate(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError) as error:
        return Refused(reason=describe(error, what), channel=channel, content_type=content_type)


def describe(error: Exception, what: str) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"the body is not valid UTF-8 (byte {error.start})"
    if isinstance(error, json.JSONDecodeError):
        return f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    assert isinstance(error, ValidationError)
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()[:10]]
    return f"invalid {what}: " + "; ".join(problems)
