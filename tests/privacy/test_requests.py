"""Request records: the one-month due date, counted with the clock the code is given."""

from __future__ import annotations

from datetime import UTC, datetime

from intake.privacy import service
from intake.privacy.requests import days_left, due_date, list_requests
from intake.privacy.subjects import SubjectQuery
from intake.runtime import Runtime


def test_one_month_is_the_same_date_next_month_or_the_last_day_of_a_shorter_month() -> None:
    assert due_date(datetime(2026, 3, 3, 9, tzinfo=UTC)) == datetime(2026, 4, 3, 9, tzinfo=UTC)
    assert due_date(datetime(2027, 1, 31, 9, tzinfo=UTC)) == datetime(2027, 2, 28, 9, tzinfo=UTC)
    assert due_date(datetime(2028, 1, 31, 9, tzinfo=UTC)) == datetime(2028, 2, 29, 9, tzinfo=UTC)


def test_days_left_count_down_and_go_negative_when_overdue() -> None:
    due = datetime(2026, 4, 3, 9, tzinfo=UTC)
    assert days_left(due, datetime(2026, 3, 3, 9, tzinfo=UTC)) == 31
    assert days_left(due, datetime(2026, 4, 3, 8, tzinfo=UTC)) == 0
    assert days_left(due, datetime(2026, 4, 5, 9, tzinfo=UTC)) == -2


def test_a_logged_request_is_completed_by_the_export_that_answers_it(runtime: Runtime) -> None:
    received = datetime(2026, 3, 3, 9, tzinfo=UTC)
    logged = service.log_request(runtime, SubjectQuery(email="someone@example.com"), kind="export", actor="dpo",
                                 now=datetime(2026, 3, 5, tzinfo=UTC), received_at=received)
    with runtime.database.session() as session:
        [row] = list_requests(session, now=datetime(2026, 3, 20, 9, tzinfo=UTC))
        assert (row.request.id, row.request.status, row.days_left, row.overdue) == (logged, "open", 14, False)
    answered = service.export_subject(runtime, SubjectQuery(email="Someone@example.com"), actor="dpo",
                                      now=datetime(2026, 3, 21, tzinfo=UTC))
    assert answered.request_id == logged
    with runtime.database.session() as session:
        [row] = list_requests(session, now=datetime(2026, 3, 22, tzinfo=UTC))
        assert (row.request.status, row.request.received_at, row.request.due_at) == (
            "done", received, datetime(2026, 4, 3, 9, tzinfo=UTC))
