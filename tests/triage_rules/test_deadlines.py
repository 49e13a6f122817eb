"""Deadlines: stages, special routes, extensions, and Awaab's Law hazards beside the policy's dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from triage_rules.deadlines import ComputedDeadline, compute_deadlines, initial_stage, next_stage
from triage_rules.policies import load_policy
from triage_rules.working_days import WorkingCalendar

LONDON = ZoneInfo("Europe/London")
ENGLAND = WorkingCalendar("england")
DEFAULT = load_policy("ombudsman-2024")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def only(deadlines: list[ComputedDeadline], kind: str) -> ComputedDeadline:
    matches = [d for d in deadlines if d.kind == kind]
    assert len(matches) == 1, [d.kind for d in deadlines]
    return matches[0]


def london_date(deadline: ComputedDeadline) -> date:
    return deadline.due_at.astimezone(LONDON).date()


# --- stages --------------------------------------------------------------------------------


def test_a_complaint_starts_at_the_first_formal_stage_and_other_types_have_none() -> None:
    for name in ("tuntum", "somers", "cestria", "ombudsman-2020"):  # these have an informal stage 0 first
        assert initial_stage(load_policy(name), item_type="complaint", flags=[]) == "stage_1"
    assert initial_stage(DEFAULT, item_type="enquiry", flags=["misconduct"]) is None
    assert initial_stage(DEFAULT, item_type=None, flags=[]) is None


def test_only_cestria_sends_a_criminal_allegation_straight_to_stage_2() -> None:
    assert initial_stage(load_policy("cestria"), item_type="complaint", flags=["misconduct"]) == "stage_2"
    assert initial_stage(load_policy("tuntum"), item_type="complaint", flags=["misconduct"]) == "stage_1"
    assert initial_stage(DEFAULT, item_type="complaint", flags=["misconduct"]) == "stage_1"


def test_next_stage_walks_the_profile_and_ends_with_none() -> None:
    somers = load_policy("somers")
    assert [next_stage(somers, s) for s in ("stage_0", "stage_1", "stage_2", "stage_3")] == [
        "stage_1",
        "stage_2",
        "stage_3",
        None,
    ]
    assert next_stage(DEFAULT, None) == "stage_1"
    with pytest.raises(ValueError, match="no stage 'stage_3'"):
        next_stage(DEFAULT, "stage_3")


def test_a_complaint_without_a_stage_gets_the_initial_stages_deadlines() -> None:
    deadlines = compute_deadlines(
        DEFAULT, item_type="complaint", stage=None, received_at=at(2026, 6, 1), calendar=ENGLAND
    )
    assert {d.stage for d in deadlines} == {"stage_1"}


def test_a_later_stage_counts_from_the_escalation_request_not_the_first_receipt() -> None:
    deadlines = compute_deadlines(
        DEFAULT,
        item_type="complaint",
        stage="stage_2",
        received_at=at(2026, 1, 5),
        stage_started_at=at(2026, 6, 1),
        calendar=ENGLAND,
    )
    assert london_date(only(deadlines, "acknowledge")) == date(2026, 6, 8)


def test_an_acknowledgement_from_an_earlier_stage_does_not_start_the_later_stages_clock() -> None:
    stage_1_acknowledged = at(2026, 1, 6)
    deadlines = compute_deadlines(
        DEFAULT,
        item_type="complaint",
        stage="stage_2",
        received_at=at(2026, 1, 5),
        stage_started_at=at(2026, 6, 1),
        acknowledged_at=stage_1_acknowledged,
        calendar=ENGLAND,
    )
    respond = only(deadlines, "respond")
    assert london_date(respond) == date(2026, 6, 29)  # 20 working days from the request itself
    assert "not yet acknowledged" in respond.basis


def test_the_escalation_window_counts_from_the_response_once_it_is_sent() -> None:
    tuntum = load_policy("tuntum")
    estimated = compute_deadlines(
        tuntum, item_type="complaint", stage="stage_1", received_at=at(2026, 6, 1), calendar=ENGLAND
    )
    sent = compute_deadlines(
        tuntum,
        item_type="complaint",
        stage="stage_1",
        received_at=at(2026, 6, 1),
        responded_at=at(2026, 6, 3),
        calendar=ENGLAND,
    )
    assert london_date(only(estimated, "escalation_request_by")) == date(
        2026, 7, 13
    )  # from the 15 June due date
    assert london_date(only(sent, "escalation_request_by")) == date(2026, 7, 1)  # 20 working days from 3 June
    assert "response date" in only(estimated, "escalation_request_by").basis


def test_deadlines_come_back_earliest_first() -> None:
    deadlines = compute_deadlines(
        load_policy("somers"),
        item_type="complaint",
        stage="stage_3",
        received_at=at(2026, 6, 1),
        calendar=ENGLAND,
    )
    assert [d.due_at for d in deadlines] == sorted(d.due_at for d in deadlines)
    assert [d.kind for d in deadlines] == ["acknowledge", "hold_hearing", "respond"]


# --- special routes and unconfirmed types --------------------------------------------------


def test_a_designated_persons_enquiry_gets_the_formal_enquiry_target_where_the_profile_has_one() -> None:
    halton = load_policy("halton")
    formal = compute_deadlines(
        halton,
        item_type="service_request",
        stage=None,
        received_at=at(2026, 6, 1),
        flags=["designated_person"],
        calendar=ENGLAND,
    )
    assert london_date(only(formal, "respond")) == date(2026, 6, 15)
    assert "formal enquiry" in only(formal, "respond").basis
    # A complaint sent through a councillor is still a complaint with the complaint stages.
    as_complaint = compute_deadlines(
        halton,
        item_type="complaint",
        stage=None,
        received_at=at(2026, 6, 1),
        flags=["designated_person"],
        calendar=ENGLAND,
    )
    assert {d.stage for d in as_complaint} == {"stage_1"}
    # Profiles without a formal-enquiry target give a designated person's enquiry the usual ones.
    assert (
        compute_deadlines(
            DEFAULT,
            item_type="enquiry",
            stage=None,
            received_at=at(2026, 6, 1),
            flags=["designated_person"],
            calendar=ENGLAND,
        )
        == []
    )


def test_an_item_whose_type_is_not_confirmed_gets_the_earliest_acknowledgement_target() -> None:
    deadlines = compute_deadlines(
        load_policy("cestria"), item_type=None, stage=None, received_at=at(2026, 6, 1), calendar=ENGLAND
    )
    assert [d.kind for d in deadlines] == ["acknowledge"]
    assert london_date(deadlines[0]) == date(2026, 6, 4)
    assert "not yet confirmed" in deadlines[0].basis


# --- extensions ----------------------------------------------------------------------------


def test_an_extension_replaces_the_response_date_and_keeps_a_holding_reply_due_by_the_old_one() -> None:
    plain = compute_deadlines(
        DEFAULT, item_type="complaint", stage="stage_1", received_at=at(2026, 6, 1), calendar=ENGLAND
    )
    extended = compute_deadlines(
        DEFAULT,
        item_type="complaint",
        stage="stage_1",
        received_at=at(2026, 6, 1),
        extended_until=at(2026, 6, 22, 9),
        calendar=ENGLAND,
    )
    assert london_date(only(plain, "respond")) == date(2026, 6, 15)
    assert london_date(only(extended, "respond")) == date(2026, 6, 22)
    assert only(extended, "respond").due_at.astimezone(LONDON).time().isoformat() == "23:59:59"
    assert only(extended, "holding_response").due_at == only(plain, "respond").due_at
    assert "Code 6.4" in only(extended, "respond").basis


def test_an_extension_beyond_the_limit_is_refused_with_the_latest_allowed_date() -> None:
    with pytest.raises(ValueError) as error:
        compute_deadlines(
            DEFAULT,
            item_type="complaint",
            stage="stage_1",
            received_at=at(2026, 6, 1),
            extended_until=at(2026, 7, 1),
            calendar=ENGLAND,
        )
    assert "Monday 29 June 2026" in str(error.value)  # 10 working days beyond 15 June


def test_an_extension_must_move_the_date_later() -> None:
    with pytest.raises(ValueError, match="later"):
        compute_deadlines(
            DEFAULT,
            item_type="complaint",
            stage="stage_1",
            received_at=at(2026, 6, 1),
            extended_until=at(2026, 6, 10),
            calendar=ENGLAND,
        )


def test_a_policy_that_sets_no_limit_accepts_an_agreed_date() -> None:
    deadlines = compute_deadlines(
        load_policy("tuntum"),
        item_type="complaint",
        stage="stage_1",
        received_at=at(2026, 6, 1),
        extended_until=at(2026, 9, 30),
        calendar=ENGLAND,
    )
    assert london_date(only(deadlines, "respond")) == date(2026, 9, 30)
    assert "no limit" in only(deadlines, "respond").basis


def test_there_is_nothing_to_extend_without_a_response_date() -> None:
    with pytest.raises(ValueError, match="no response date"):
        compute_deadlines(
            DEFAULT,
            item_type="compliment",
            stage=None,
            received_at=at(2026, 6, 1),
            extended_until=at(2026, 7, 1),
            calendar=ENGLAND,
        )


# --- Awaab's Law hazards -------------------------------------------------------------------


@pytest.mark.parametrize(
    "item_type", ["complaint", "service_request", "enquiry", "compliment", "suggestion", None]
)
def test_urgent_safety_must_be_made_safe_within_24_hours_of_receipt_whatever_the_type(
    item_type: str | None,
) -> None:
    received = at(2026, 12, 24, 16, 45)  # Christmas Eve: the 24 hours run through the bank holiday
    deadlines = compute_deadlines(
        DEFAULT,
        item_type=item_type,
        stage=None,
        received_at=received,
        flags=["urgent_safety"],
        calendar=ENGLAND,
    )
    make_safe = only(deadlines, "make_safe")
    assert make_safe.due_at == received.astimezone(UTC) + timedelta(hours=24)
    assert make_safe.stage is None and make_safe.policy == "awaabs-law"
    assert "Awaab's Law" in make_safe.basis and "24 hours" in make_safe.basis
    assert deadlines[0] is make_safe  # earliest, so first


@pytest.mark.parametrize(
    "item_type", ["complaint", "service_request", "enquiry", "compliment", "suggestion", None]
)
def test_damp_and_mould_must_be_investigated_within_10_working_days_whatever_the_type(
    item_type: str | None,
) -> None:
    deadlines = compute_deadlines(
        load_policy("somers"),
        item_type=item_type,
        stage=None,
        received_at=at(2026, 4, 2),
        hazards=["damp_and_mould"],
        calendar=ENGLAND,
    )
    investigate = only(deadlines, "investigate_hazard")
    assert london_date(investigate) == date(2026, 4, 20)  # Good Friday and Easter Monday skipped
    assert "damp and mould" in investigate.basis and "10 working days" in investigate.basis


def test_no_hazard_deadlines_without_a_hazard() -> None:
    deadlines = compute_deadlines(
        DEFAULT, item_type="complaint", stage=None, received_at=at(2026, 6, 1), calendar=ENGLAND
    )
    assert {"make_safe", "investigate_hazard"}.isdisjoint(d.kind for d in deadlines)


def test_outside_england_the_hazard_deadlines_say_they_are_good_practice() -> None:
    wales = WorkingCalendar("wales")
    deadlines = compute_deadlines(
        DEFAULT,
        item_type="enquiry",
        stage=None,
        received_at=at(2026, 6, 1),
        hazards=["damp_and_mould"],
        calendar=wales,
    )
    assert "good practice" in only(deadlines, "investigate_hazard").basis


def test_a_naive_receipt_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        compute_deadlines(
            DEFAULT, item_type="complaint", stage=None, received_at=datetime(2026, 6, 1, 10), calendar=ENGLAND
        )


def test_a_resolved_hazard_starts_no_awaabs_law_deadline() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from triage_rules.deadlines import compute_deadlines
    from triage_rules.policies import load_policy
    from triage_rules.working_days import WorkingCalendar

    received = datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("Europe/London"))
    common = dict(item_type="compliment", stage=None, received_at=received, flags=["urgent_safety"],
                  hazards=["damp_and_mould"], calendar=WorkingCalendar("england"))
    live = {d.kind for d in compute_deadlines(load_policy("tuntum"), **common)}  # type: ignore[arg-type]
    resolved = {d.kind for d in compute_deadlines(load_policy("tuntum"), hazard_state="resolved", **common)}  # type: ignore[arg-type]
    assert {"make_safe", "investigate_hazard"} <= live
    assert not {"make_safe", "investigate_hazard"} & resolved
