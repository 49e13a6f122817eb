"""Hazard state (live / resolved / none) from the real rules, and when junk is not allowed."""

from __future__ import annotations

import pytest

from classifier.decision import (
    JUNK_COMPLAINT_FLOOR,
    JUNK_SURE_OVER_SOFT_FLAGS,
    SAFETY_NET_RULES,
    SOFT_PROTECTING_FLAGS,
    junk_blocked_by,
    rule_flags_confirmed,
)
from classifier.hazard import hazard_state
from triage_rules.rules import flags_from, load_rule_engine

ENGINE = load_rule_engine()


def state_of(text: str, item_type: str | None = None) -> tuple[str, frozenset[str]]:
    hits = ENGINE.match(text, channel="email")
    found = hazard_state(hits, flags_from(hits), item_type)
    return found.state, found.drop_flags


@pytest.mark.parametrize("text, item_type", [
    ("Thank you for getting my mould treated so quickly.", "compliment"),
    ("The burst pipe has been fixed and the ceiling has dried out, thanks to Dean.", "compliment"),
    ("The gas engineer fixed the leak on my cooker last week. Can I use the oven again now?", "enquiry"),
    ("The mould in my bedroom was treated last month, can I repaint the wall now?", "enquiry"),
])
def test_a_hazard_reported_as_fixed_is_resolved(text: str, item_type: str) -> None:
    assert state_of(text, item_type)[0] == "resolved"


def test_a_resolved_emergency_is_not_an_emergency_any_more() -> None:
    state, dropped = state_of("Thanks for sorting the gas leak so quickly, the engineer made it safe.", "compliment")
    assert state == "resolved" and "urgent_safety" in dropped


@pytest.mark.parametrize("text", [
    "The mould was treated last week but it's back again on the ceiling.",
    "They treated the mould but it has come back.",
    "Thanks for fixing the boiler but now there's water coming through the light.",
    "There is a strong smell of gas in my kitchen.",
    "The mould in the bathroom is spreading.",
])
def test_a_hazard_still_there_is_live(text: str) -> None:
    assert state_of(text, "complaint")[0] == "live"


def test_a_person_at_risk_is_never_resolved_by_a_repair_being_fixed() -> None:
    state, dropped = state_of("Thank you for fixing the door. My ex has threatened to kill me and knows where I live.")
    assert "urgent_safety" not in dropped and state == "live"


def test_no_hazard_means_none() -> None:
    assert state_of("How do I apply for a parking permit?", "enquiry")[0] == "none"


def test_junk_is_refused_when_a_safety_safeguarding_or_complaint_signal_is_present() -> None:
    sure = 0.99  # however sure the type model is that it is junk
    assert junk_blocked_by({"urgent_safety"}, [], 0.0, junk_probability=sure) == "flag urgent_safety"
    assert junk_blocked_by({"safeguarding"}, [], 0.0, junk_probability=sure) == "flag safeguarding"
    assert junk_blocked_by({"non_english"}, [], 0.0, junk_probability=sure) == "flag non_english"  # unreadable
    assert junk_blocked_by(set(), [], 0.4, junk_probability=0.6) is not None
    complaint_hits = ENGINE.match("This is the third time I have complained and nobody has come.", channel="email")
    assert junk_blocked_by(set(), complaint_hits, 0.0, junk_probability=sure) == "a complaint cue"
    assert junk_blocked_by(set(), [], 0.01, junk_probability=0.6) is None


@pytest.mark.parametrize("text", [
    "Got a text saying my rent is £42.50 in arrears, pay at westmere-rentpay.co.uk by tomorrow. Is that actually you??",
    "*** BOILER COVER FOR TENANTS ONLY £9.99 *** Is Gary anything to do with you?",
])
def test_someone_asking_whether_spam_is_really_from_us_is_not_junk(text: str) -> None:
    hits = ENGINE.match(text, channel="sms")
    assert junk_blocked_by(set(), hits, 0.0, junk_probability=0.99) == "asks whether it is really from us"


def test_spam_itself_does_not_ask_whether_it_is_genuine() -> None:
    hits = ENGINE.match("Westmere Housing: your rent is in arrears. Pay now at westmere-rentpay.co.uk", channel="sms")
    assert junk_blocked_by(set(), hits, 0.0, junk_probability=0.99) is None


def test_abuse_aimed_at_us_is_never_junk() -> None:
    # an abusive complaint the type model finds junk-like is still a person writing to us
    assert junk_blocked_by({"abusive"}, [], 0.0, junk_probability=0.99) == "flag abusive"


@pytest.mark.parametrize("flag", sorted(SOFT_PROTECTING_FLAGS))
def test_a_person_writing_to_us_about_us_is_junk_only_when_the_model_is_sure(flag: str) -> None:
    # Spam names the Ombudsman (webinars), threatens legal action (copyright scams), claims to be a
    # fraud team or a councillor: the flag holds junk back only below the type model's sure line...
    unsure = JUNK_SURE_OVER_SOFT_FLAGS - 0.01
    assert junk_blocked_by({flag}, [], 0.0, junk_probability=unsure) == f"flag {flag} (junk probability {unsure:.2f})"
    assert junk_blocked_by({flag}, [], 0.0, junk_probability=JUNK_SURE_OVER_SOFT_FLAGS) is None
    # ...and never over a complaint signal
    assert junk_blocked_by({flag}, [], JUNK_COMPLAINT_FLOOR, junk_probability=0.99) is not None


def test_a_safety_net_rule_alone_waits_for_the_model_but_a_specific_rule_never_does() -> None:
    net_hits = ENGINE.match("My mum is 87 and the tap in her kitchen is leaking.", channel="email")
    assert {hit.rule for hit in net_hits if hit.value == "urgent_safety"} <= SAFETY_NET_RULES
    assert "urgent_safety" in flags_from(net_hits)
    held, notes = rule_flags_confirmed(net_hits, {"urgent_safety": 0.03}, {"urgent_safety": 0.1})
    assert "urgent_safety" not in held and "below 0.10" in notes[0]
    kept, _ = rule_flags_confirmed(net_hits, {"urgent_safety": 0.12}, {"urgent_safety": 0.1})
    assert "urgent_safety" in kept
    # no flag model: nothing to confirm with, the rule stands
    assert "urgent_safety" in rule_flags_confirmed(net_hits, {}, {"urgent_safety": 0.1})[0]

    gas_hits = ENGINE.match("There's a hissing sound from the gas meter and my mum is 87.", channel="email")
    assert "urgent_safety" in rule_flags_confirmed(gas_hits, {"urgent_safety": 0.0}, {"urgent_safety": 0.1})[0]
