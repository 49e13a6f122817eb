"""Overdue now reads the live deadlines, not the daily facts: its queries must stay on the partial,
covering indexes of migration 0012 (docs/benchmarks.md, "## Reports"). A change to the overdue
condition that no longer matches an index's WHERE clause makes PostgreSQL walk every item again on
a large landlord's data; these plans say so on a small one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.reports import queries
from intake.runtime import Runtime
from tests.query_plans import plan_of_last_statement

NOW = datetime(2026, 10, 14, 11, 0, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # the plans are PostgreSQL's
def test_overdue_now_reads_the_open_cases_and_outstanding_deadlines_indexes(
    report_runtime: Runtime, fixed_data: dict[str, int]
) -> None:
    count_plan = plan_of_last_statement(report_runtime, lambda session: queries.overdue_case_count(session, NOW))
    assert "ix_items_open_cases" in count_plan, count_plan
    assert "ix_deadlines_outstanding_due_at" in count_plan, count_plan

    groups_plan = plan_of_last_statement(report_runtime, lambda session: queries.overdue_deadlines(session, NOW))
    assert "ix_items_open_cases" in groups_plan, groups_plan
    assert "ix_deadlines_outstanding_due_at" in groups_plan, groups_plan
