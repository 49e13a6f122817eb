"""Policy profiles: each one's deadlines, proved on dates around bank holidays, and its quotes
checked word for word against the published policy it came from (shared/policies/*.txt)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from triage_rules.deadlines import ComputedDeadline, compute_deadlines, initial_stage, next_stage
from triage_rules.policies import (
    POLICY_DIR,
    PolicyError,
    PolicyNotFound,
    list_policies,
    load_policy,
    parse_policy,
)
from triage_rules.working_days import WorkingCalendar

LONDON = ZoneInfo("Europe/London")
SHARED_POLICIES = Path(__file__).resolve().parents[3] / "shared" / "policies"
PROFILES = ["cestria", "halton", "ombudsman-2020", "ombudsman-2024", "somers", "tuntum"]
NUMBER_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    5: "five",
    10: "ten",
    12: "twelve",
    20: "twenty",
    28: "twenty-eight",
}

ENGLAND = WorkingCalendar("england")


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=LONDON)


def due(deadlines: list[ComputedDeadline], kind: str, stage: str | None = None) -> date:
    """The London date a deadline of this kind (and stage) falls on; fails if there is none."""
    matches = [d for d in deadlines if d.kind == kind and (stage is None or d.stage == stage)]
    assert len(matches) == 1, f"expected one {kind} deadline, got {[(d.kind, d.stage) for d in deadlines]}"
    return matches[0].due_at.astimezone(LONDON).date()


def kinds(deadlines: list[ComputedDeadline]) -> set[str]:
    return {d.kind for d in deadlines}


def complaint(policy: str, stage: str, received: datetime, **kwargs: Any) -> list[ComputedDeadline]:
    kwargs.setdefault("calendar", ENGLAND)
    return compute_deadlines(
        load_policy(policy), item_type="complaint", stage=stage, received_at=received, **kwargs
    )


def item(policy: str, item_type: str | None, received: datetime, **kwargs: Any) -> list[ComputedDeadline]:
    kwargs.setdefault("calendar", ENGLAND)
    return compute_deadlines(
        load_policy(policy), item_type=item_type, stage=None, received_at=received, **kwargs
    )


# --- the profiles as a set -----------------------------------------------------------------


def test_there_is_one_profile_per_published_policy_plus_the_2024_code() -> None:
    assert list_policies() == PROFILES


def test_an_unknown_profile_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(PolicyNotFound) as error:
        load_policy("acme")
    assert "tuntum" in str(error.value) and "ombudsman-2024" in str(error.value)
    with pytest.raises(PolicyNotFound):
        load_policy("../taxonomy")


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_loads_with_contacts_and_ordered_stages(name: str) -> None:
    policy = load_policy(name)
    assert policy.name == name
    assert policy.landlord_name and policy.title and policy.year >= 2010
    assert policy.contact.phone and policy.contact.emergency_repairs_phone
    assert [s.id for s in policy.stages] == sorted(s.id for s in policy.stages)
    assert policy.formal_stages[0].id == "stage_1"


def _sources(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _sources(value, f"{path}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _sources(value, f"{path}[{index}]")
    elif path.endswith(".source"):
        yield path, str(data)


def _normalised(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text.replace("**", "")).strip().lower()


@pytest.mark.parametrize("name", [p for p in PROFILES if p != "ombudsman-2024"])
def test_every_quoted_clause_is_word_for_word_in_the_published_policy(name: str) -> None:
    raw = yaml.safe_load((POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    assert raw["checked_against_text"] is True
    text_file = SHARED_POLICIES / Path(raw["source_file"]).name
    if not text_file.is_file():
        pytest.skip(f"{text_file} is not beside the repository")
    text = _normalised(text_file.read_text(encoding="utf-8"))
    quotes = list(_sources(raw))
    assert quotes
    for path, quote in quotes:
        for piece in _normalised(quote).split("..."):
            assert piece.strip() in text, f"{name}{path}: not in {text_file.name}: {piece.strip()!r}"


@pytest.mark.parametrize("name", PROFILES)
def test_every_target_number_appears_in_its_own_quote(name: str) -> None:
    policy = load_policy(name)
    targets = [t for s in policy.stages for _, t in s.deadlines] + [
        t for tt in policy.types for _, t in tt.deadlines
    ]
    targets += [s.escalation_request for s in policy.stages if s.escalation_request]
    assert targets
    for target in targets:
        spelled = {str(target.within), NUMBER_WORDS.get(target.within, "-")}
        if target.within == 1:
            spelled.add("next")  # "before the end of the next working day"
        assert any(re.search(rf"\b{word}\b", target.source.lower()) for word in spelled), target


def test_the_2024_code_says_it_was_not_checked_against_a_shipped_text() -> None:
    policy = load_policy("ombudsman-2024")
    assert policy.checked_against_text is False and policy.source_file is None
    assert "not checked against a shipped text" in (POLICY_DIR / "ombudsman-2024.yaml").read_text().lower()


def test_a_profile_with_a_mistake_is_refused_naming_the_field(tmp_path: Path) -> None:
    raw = yaml.safe_load((POLICY_DIR / "tuntum.yaml").read_text(encoding="utf-8"))
    raw["stages"][1]["deadlines"]["respond"]["unit"] = "fortnights"
    with pytest.raises(PolicyError, match="fortnights"):
        parse_policy(raw, path=tmp_path / "tuntum.yaml")


# --- one test per profile, proving its deadlines -------------------------------------------


def test_tuntum_deadlines_around_easter_2026() -> None:
    received = at(2026, 4, 2)  # Thursday before Good Friday (3 April) and Easter Monday (6 April)
    stage_1 = complaint("tuntum", "stage_1", received)
    assert due(stage_1, "acknowledge") == date(2026, 4, 9)  # 3 working days
    assert due(stage_1, "respond") == date(2026, 4, 20)  # 10 working days
    assert due(stage_1, "escalation_request_by") == date(
        2026, 5, 19
    )  # 20 working days after, May Day skipped
    quick_fix = complaint("tuntum", "stage_0", received)
    assert due(quick_fix, "respond") == date(2026, 4, 7)  # within one working day
    assert due(quick_fix, "escalation_request_by") == date(2026, 4, 14)  # five working days to go formal
    stage_2 = complaint("tuntum", "stage_2", at(2026, 4, 20), stage_started_at=at(2026, 5, 1))
    assert due(stage_2, "acknowledge") == date(2026, 5, 7)  # 3 working days of the request, 4 May skipped
    assert due(stage_2, "respond") == date(2026, 5, 18)  # 10 working days
    assert next_stage(load_policy("tuntum"), "stage_2") is None  # then the ICP / the Ombudsman
    assert item("tuntum", "enquiry", received) == []  # "will be acknowledged": no number of days given


def test_somers_deadlines_over_christmas_from_a_saturday() -> None:
    received = at(2026, 12, 19)  # a Saturday: counting starts on Monday 21 December
    suggestion = item("somers", "suggestion", received)
    assert due(suggestion, "acknowledge") == date(2026, 12, 24)  # 3 working days
    assert due(suggestion, "respond") == date(2027, 1, 7)  # 10 working days: 25, 28 Dec and 1 Jan skipped
    assert due(item("somers", "compliment", received), "acknowledge") == date(2026, 12, 24)
    assert item("somers", "enquiry", received) == []
    stage_1 = complaint("somers", "stage_1", received)
    assert (due(stage_1, "acknowledge"), due(stage_1, "respond")) == (date(2026, 12, 24), date(2027, 1, 7))
    assert due(stage_1, "escalation_request_by") == date(2027, 4, 7)  # 3 months after the response
    stage_2 = complaint("somers", "stage_2", received)
    assert (due(stage_2, "acknowledge"), due(stage_2, "respond")) == (date(2026, 12, 24), date(2027, 1, 14))
    stage_3 = complaint("somers", "stage_3", received)
    assert due(stage_3, "acknowledge") == date(2026, 12, 24)
    assert due(stage_3, "hold_hearing") == date(2027, 2, 4)  # 30 working days
    assert due(stage_3, "respond") == date(2027, 2, 18)  # findings 10 working days after the hearing
    assert due(complaint("somers", "stage_0", received), "respond") == date(2026, 12, 22)  # next working day


def test_halton_deadlines_for_a_complaint_received_on_good_friday() -> None:
    received = at(2026, 4, 3)  # Good Friday: counting starts on Tuesday 7 April
    stage_1 = complaint("halton", "stage_1", received)
    assert due(stage_1, "arrange_meeting") == date(2026, 4, 10)  # 3 working days
    assert due(stage_1, "respond") == date(2026, 4, 21)  # 10 working days
    assert due(stage_1, "escalation_request_by") == date(2026, 5, 19)  # 28 calendar days
    assert "acknowledge" not in kinds(stage_1)  # the policy sets no acknowledgement target
    held = complaint("halton", "stage_1", received, extended_until=at(2026, 4, 28))
    assert due(held, "respond") == date(2026, 4, 28)  # a holding letter adds at most 5 working days
    assert due(held, "holding_response") == date(2026, 4, 21)
    with pytest.raises(ValueError, match="at most 5 working days"):
        complaint("halton", "stage_1", received, extended_until=at(2026, 4, 29))
    enquiry = item("halton", "enquiry", received, flags=["designated_person"])
    assert due(enquiry, "respond") == date(2026, 4, 21)  # formal enquiry: 10 working days
    assert "Formal Enquiries" in enquiry[0].basis
    assert item("halton", "enquiry", received) == []  # a general enquiry has no target
    assert due(item("halton", "compliment", received), "acknowledge") == date(2026, 4, 10)
    assert due(complaint("halton", "stage_2", received), "notify_review_meeting") == date(2026, 4, 21)


def test_halton_in_scotland_counts_the_new_year_holidays() -> None:
    scotland = WorkingCalendar("scotland")
    received = at(2025, 12, 31)
    assert due(complaint("halton", "stage_1", received), "arrange_meeting") == date(2026, 1, 6)
    assert due(complaint("halton", "stage_1", received, calendar=scotland), "arrange_meeting") == date(
        2026, 1, 7
    )


def test_cestria_deadlines_and_the_criminal_allegation_route() -> None:
    policy = load_policy("cestria")
    received = at(2026, 5, 22)  # Friday before the spring bank holiday (25 May)
    for item_type in ("compliment", "suggestion", "enquiry", "service_request"):
        assert due(item("cestria", item_type, received), "acknowledge") == date(
            2026, 5, 28
        )  # everything in 3
    assert due(item("cestria", "enquiry", received), "respond") == date(2026, 6, 8)
    stage_1 = complaint("cestria", "stage_1", received)
    assert (due(stage_1, "acknowledge"), due(stage_1, "respond")) == (date(2026, 5, 28), date(2026, 6, 8))
    stage_2 = complaint("cestria", "stage_2", received)
    assert (due(stage_2, "acknowledge"), due(stage_2, "respond")) == (date(2026, 5, 28), date(2026, 6, 8))
    board = complaint("cestria", "stage_3", at(2026, 12, 10))
    assert due(board, "respond") == date(2027, 1, 9)  # 30 calendar days, Christmas and all
    assert initial_stage(policy, item_type="complaint", flags=["misconduct"]) == "stage_2"
    assert initial_stage(policy, item_type="complaint", flags=[]) == "stage_1"
    straight_to_2 = compute_deadlines(
        policy,
        item_type="complaint",
        stage=None,
        received_at=received,
        flags=["misconduct"],
        calendar=ENGLAND,
    )
    assert {d.stage for d in straight_to_2} == {"stage_2"}


def test_ombudsman_2020_deadlines_are_in_working_days_around_the_may_bank_holidays() -> None:
    stage_1 = complaint("ombudsman-2020", "stage_1", at(2026, 5, 1))  # Friday before May Day
    assert due(stage_1, "respond") == date(2026, 5, 14)  # 8 working days
    assert due(stage_1, "escalation_request_by") == date(2026, 5, 29)  # 10 (working) days, 25 May skipped
    assert "acknowledge" not in kinds(stage_1)  # the policy sets no acknowledgement target
    stage_2 = complaint("ombudsman-2020", "stage_2", at(2026, 5, 14), stage_started_at=at(2026, 5, 22))
    assert due(stage_2, "respond") == date(2026, 6, 1)  # 5 working days of the escalation
    feedback = complaint("ombudsman-2020", "stage_0", at(2026, 5, 22))
    assert due(feedback, "respond") == date(2026, 5, 27)  # 2 working days


def test_ombudsman_2024_code_counts_the_response_from_the_acknowledgement() -> None:
    received = at(2026, 12, 23)
    acknowledged = at(2026, 12, 24, 9)
    stage_1 = complaint("ombudsman-2024", "stage_1", received, acknowledged_at=acknowledged)
    assert due(stage_1, "acknowledge") == date(2027, 1, 4)  # 5 working days: 25, 28 Dec and 1 Jan skipped
    assert due(stage_1, "respond") == date(2027, 1, 12)  # 10 working days of acknowledging
    extended = complaint(
        "ombudsman-2024", "stage_1", received, acknowledged_at=acknowledged, extended_until=at(2027, 1, 26)
    )
    assert due(extended, "respond") == date(2027, 1, 26)  # the 10 further working days allowed
    with pytest.raises(ValueError, match="at most 10 working days"):
        complaint(
            "ombudsman-2024",
            "stage_1",
            received,
            acknowledged_at=acknowledged,
            extended_until=at(2027, 1, 27),
        )
    escalated = at(2027, 3, 24)
    stage_2 = complaint(
        "ombudsman-2024",
        "stage_2",
        received,
        stage_started_at=escalated,
        acknowledged_at=escalated + timedelta(days=1),
    )
    assert due(stage_2, "acknowledge") == date(2027, 4, 2)  # 5 working days: Easter 2027 is 26-29 March
    assert due(stage_2, "respond") == date(2027, 4, 26)  # 20 working days of acknowledging, Easter skipped
    longest = complaint(
        "ombudsman-2024",
        "stage_2",
        received,
        stage_started_at=escalated,
        acknowledged_at=escalated + timedelta(days=1),
        extended_until=at(2027, 5, 25),
    )
    assert due(longest, "respond") == date(2027, 5, 25)  # 20 further working days, 3 May skipped
    with pytest.raises(ValueError, match="at most 20 working days"):
        complaint(
            "ombudsman-2024",
            "stage_2",
            received,
            stage_started_at=escalated,
            acknowledged_at=escalated + timedelta(days=1),
            extended_until=at(2027, 5, 26),
        )
    assert next_stage(load_policy("ombudsman-2024"), "stage_2") is None


@pytest.mark.parametrize("name", PROFILES)
def test_every_deadline_is_aware_utc_and_names_its_policy(name: str) -> None:
    policy = load_policy(name)
    for stage in policy.stages:
        for deadline in complaint(name, stage.id, datetime(2026, 6, 1, 9, tzinfo=UTC)):
            assert deadline.due_at.tzinfo == UTC
            assert deadline.policy == name
            assert policy.label in deadline.basis


def test_the_docs_have_a_table_for_every_profile() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")
    for name in PROFILES:
        assert f"### `{name}`" in docs
