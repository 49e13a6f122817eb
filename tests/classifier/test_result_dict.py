"""`Classification.to_dict` is written by hand for speed: it must give exactly what `dataclasses.asdict` gives."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from classifier.classifier import Classifier
from classifier.result import Classification, Explanation, RuleHit, TermWeight

MESSAGES = [  # (text, channel): between them a complaint with categories, flags raised, a live hazard, junk
    ("This is the third time I have reported the leak under my sink. The plumber was booked for Tuesday "
     "and nobody came, nobody rang. Please can someone actually come out.", "email"),
    ("There is black mould all over my baby's bedroom wall and she keeps coughing, it's getting worse", "email"),
    ("I can smell gas in the kitchen, it is really strong", "sms"),
    ("My mum is 88 and her heating has failed, she is freezing", "sms"),
    ("you useless idiots, fix my door or else", "sms"),
    ("The damp in the bathroom was fixed last month, thank you to the team", "web_form"),
    ("CONGRATULATIONS! You have won a £500 voucher, click here to claim your prize now", "email"),
]


def same_plain_data(a: Any, b: Any) -> bool:
    """Equal, and the same types all the way down (a tuple is not a list here), keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_plain_data(a[key], b[key]) for key in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same_plain_data(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def assert_as_asdict(result: Classification) -> None:
    data = result.to_dict()
    assert same_plain_data(data, asdict(result))
    assert json.dumps(data, sort_keys=False) == json.dumps(asdict(result), sort_keys=False)


def test_to_dict_of_real_classifications_is_what_asdict_gives(small_classifier: Classifier) -> None:
    results = [small_classifier.classify(text, channel=channel) for text, channel in MESSAGES]
    for result in results:
        assert_as_asdict(result)
    assert any(result.explanation.type_terms and result.explanation.rules for result in results)
    assert any(result.categories and result.explanation.category_terms for result in results)
    assert any(result.flags for result in results)
    assert any(result.hazard_state != "none" for result in results)


def test_to_dict_with_every_part_filled_in() -> None:
    term = TermWeight(term="black mould", weight=0.8, text="black mould", spans=[(10, 21), (40, 51)])
    result = Classification(
        type="complaint", confidence=0.91, type_probabilities={"complaint": 0.91, "repair": 0.09},
        categories=["damp_mould", "repair_delay"], category_probabilities={"damp_mould": 0.7, "repair_delay": 0.6},
        flags=["vulnerable_resident"], queue="complaints", model_version="v1", language=None,
        prepared_text="black mould ...",
        explanation=Explanation(
            rules=[RuleHit(rule="damp_mould", effect="hazard", value="damp_mould", matched="black mould")],
            type_terms=[term], category_terms={"damp_mould": [term]}, review_reason=None,
            routing_reason="complaint", preparation=["quoted reply cut"], model_flags={"vulnerable_resident": 0.8},
            hazard_reason="live", flag_notes=["abuse held back"],
        ),
        junk=False, hazard_state="live",
    )
    assert_as_asdict(result)


def test_to_dict_hands_out_fresh_lists_and_dicts(small_classifier: Classifier) -> None:
    result = small_classifier.classify(MESSAGES[0][0], channel="email")
    before = asdict(result)
    data = result.to_dict()
    data["categories"].append("changed")
    data["type_probabilities"]["changed"] = 1.0
    data["explanation"]["rules"].clear()
    data["explanation"]["type_terms"][0]["spans"].clear()
    assert asdict(result) == before
    assert result.to_dict() == before
