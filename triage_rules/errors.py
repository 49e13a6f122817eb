"""Errors of the rule layer. It imports nothing above it: intake catches them beside its own
(intake.errors.SERVICE_ERRORS) and maps them to HTTP and CLI messages at the top."""

from __future__ import annotations

from pathlib import Path


class TriageRulesError(Exception):
    """Base of every error raised on purpose by `triage_rules`."""


class RulesError(TriageRulesError):
    """A rule file is invalid; the message names the file and, where known, the rule."""

    def __init__(self, problem: str, *, path: Path | str, rule: str | None = None) -> None:
        self.path = Path(path)
        self.rule = rule
        self.problem = problem
        where = f"{self.path}" + (f", rule {rule!r}" if rule else "")
        super().__init__(f"{where}: {problem}")


class RoutingError(TriageRulesError):
    """Routing data is invalid or a routing input is unknown (e.g. a type not in the taxonomy)."""
