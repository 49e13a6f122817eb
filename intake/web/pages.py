"""Errors that staff and residents see as pages rather than as JSON."""

from __future__ import annotations

from intake.errors import NotFound


class PageNotFound(NotFound):
    """A workspace page for something that does not exist (rendered as an HTML 404)."""
