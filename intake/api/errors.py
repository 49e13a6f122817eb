"""The one place where service errors become HTTP answers. Unknown errors are logged and re-raised."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from intake.errors import (
    SERVICE_ERRORS,
    ChannelConfigurationError,
    ConfigurationError,
    Forbidden,
    InvalidMessage,
    InvalidTransition,
    NotAuthorised,
    NotFound,
    PayloadTooLarge,
)

STATUS_BY_ERROR: dict[type[Exception], int] = {
    PayloadTooLarge: 413,  # before InvalidMessage, its base class
    InvalidMessage: 422,
    NotFound: 404,
    NotAuthorised: 401,
    Forbidden: 403,
    InvalidTransition: 409,
    ConfigurationError: 503,
    ChannelConfigurationError: 503,
}


def error_response(error: Exception) -> JSONResponse:
    """A service error's answer: its status and `{"error": kind, "detail": what went wrong}`."""
    status = next((code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": type(error).__name__, "detail": str(error)}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def _intake_error(request: Request, error: Exception) -> JSONResponse:
        return error_response(error)

    for family in SERVICE_ERRORS:
        app.add_exception_handler(family, _intake_error)
