"""Routing: safety first, then formal enquiries, then the type's queue; unsure items to review."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage_rules.errors import RoutingError
from triage_rules.routing import ROUTING_FILE, RoutingDecision, load_routing, route
from triage_rules.taxonomy import REVIEW_QUEUE, TAXONOMY, TYPES


@pytest.mark.parametrize("item_type", TYPES)
def test_a_confident_item_goes_to_its_types_queue(item_type: str) -> None:
    decision = route(item_type, [], confident=True)
    assert decision.queue == TAXONOMY.type_queues[item_type]
    assert item_type in decision.reason


@pytest.mark.parametrize("item_type", TYPES)
def test_an_unsure_item_goes_to_review(item_type: str) -> None:
    assert route(item_type, ["third_party"], confident=False).queue == REVIEW_QUEUE


@pytest.mark.parametrize("confident", [True, False])
@pytest.mark.parametrize("item_type", [*TYPES, None])
def test_urgent_safety_always_goes_to_emergency(item_type: str | None, confident: bool) -> None:
    decision = route(item_type, ["urgent_safety"], confident=confident)
    assert decision == RoutingDecision("emergency", "flag urgent_safety -> emergency (routing.urgent_safety)")


def test_safety_comes_before_a_councillors_letter() -> None:
    assert route("complaint", ["designated_person", "urgent_safety"], confident=True).queue == "emergency"


@pytest.mark.parametrize("item_type", TYPES)
def test_a_designated_person_goes_to_formal_enquiries_whatever_the_type(item_type: str) -> None:
    assert route(item_type, ["designated_person", "third_party"], confident=True).queue == "formal_enquiries"


def test_an_unsure_designated_person_item_goes_to_review_saying_where_it_would_have_gone() -> None:
    decision = route("enquiry", ["designated_person"], confident=False)
    assert decision.queue == REVIEW_QUEUE
    assert "formal_enquiries" in decision.reason


def test_an_item_with_no_usable_type_goes_to_review() -> None:
    assert route(None, [], confident=True).queue == REVIEW_QUEUE


def test_other_flags_do_not_change_the_queue() -> None:
    flags = ["third_party", "ombudsman", "misconduct", "abusive", "non_english"]
    assert route("complaint", flags, confident=True).queue == "complaints"


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(RoutingError, match="unknown item type"):
        route("grumble", [], confident=True)


def test_the_shipped_routing_order_is_safety_then_safeguarding_then_formal_enquiries() -> None:
    table = load_routing(ROUTING_FILE)
    assert [(o.flag, o.queue, o.bypasses_review) for o in table.overrides] == [
        ("urgent_safety", "emergency", True),
        ("safeguarding", "safeguarding", True),
        ("designated_person", "formal_enquiries", False),
    ]


@pytest.mark.parametrize("confident", [True, False])
@pytest.mark.parametrize("item_type", [*TYPES, None])
def test_safeguarding_always_goes_to_its_own_queue_even_when_unsure(item_type: str | None, confident: bool) -> None:
    decision = route(item_type, ["safeguarding", "third_party"], confident=confident)
    assert decision == RoutingDecision("safeguarding", "flag safeguarding -> safeguarding (routing.safeguarding)")


def test_safeguarding_comes_after_safety_and_before_a_councillors_letter() -> None:
    assert route("complaint", ["safeguarding", "urgent_safety"], confident=True).queue == "emergency"
    assert route("enquiry", ["designated_person", "safeguarding"], confident=True).queue == "safeguarding"


@pytest.mark.parametrize("confident", [True, False])
def test_junk_goes_to_not_for_triage_never_a_work_queue(confident: bool) -> None:
    decision = route(None, [], confident=confident, junk=True)
    assert decision.queue == "not_for_triage"
    assert "not acknowledged" in decision.reason


@pytest.mark.parametrize("flag, queue", [("urgent_safety", "emergency"), ("safeguarding", "safeguarding")])
def test_a_safety_or_safeguarding_flag_wins_over_junk(flag: str, queue: str) -> None:
    assert route(None, [flag], confident=True, junk=True).queue == queue


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("overrides: [{name: r, flag: loud, queue: emergency, bypasses_review: true}]\nreview_queue: triage_review",
         "unknown flag"),
        ("overrides: [{name: r, flag: abusive, queue: nowhere, bypasses_review: true}]\nreview_queue: triage_review",
         "unknown queue"),
        ("overrides: [{name: r, flag: abusive, queue: emergency}]\nreview_queue: triage_review", "exactly name"),
        ("overrides: []\nreview_queue: elsewhere", "review_queue must be"),
        ("overrides: [", "cannot read YAML"),
    ],
)
def test_bad_routing_data_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RoutingError, match=problem):
        load_routing(path)
