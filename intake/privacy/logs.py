"""Keeping personal data out of application logs.

The web server's access log writes each request line, query string included: a staff search for a
resident's name (`/staff/queues?q=…`) would copy the name into the log. This filter keeps the path
and drops the query.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class DropQueryStrings(logging.Filter):
    """uvicorn's access records carry (client, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?[query withheld]", *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter once per process (each uvicorn worker builds its app, and calls this)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, DropQueryStrings) for existing in logger.filters):
        logger.addFilter(DropQueryStrings())
