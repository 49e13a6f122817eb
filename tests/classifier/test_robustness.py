"""The robustness perturbations do what they say, the same way every time, and the report runs."""

from __future__ import annotations

import random

from classifier.classifier import Classifier
from classifier.data import LabelledExample
from classifier.robustness import (
    CHANNELS_OF,
    PERTURBATIONS,
    format_report,
    lower_case,
    no_punctuation,
    perturbed,
    robustness_report,
    text_speak,
    with_quoted_thread,
    with_signature,
    with_typos,
)

TEXT = "Please can you send someone tomorrow? The boiler isn't working, and it's freezing!"


def test_each_perturbation_is_deterministic_for_a_seed() -> None:
    for perturbation in PERTURBATIONS.values():
        assert perturbation(TEXT, random.Random(1)) == perturbation(TEXT, random.Random(1))


def test_the_perturbations_change_what_they_say() -> None:
    assert lower_case(TEXT, random.Random(0)) == TEXT.lower()
    assert not set(no_punctuation(TEXT, random.Random(0))) & set("?,!'.")
    speak = text_speak(TEXT, random.Random(0))
    assert "u" in speak.split() or "2moro" in speak or "pls" in speak.lower()
    assert with_signature(TEXT, random.Random(0)).startswith(TEXT) and "Kind regards" in with_signature(TEXT, random.Random(0))
    assert "wrote:" in with_quoted_thread(TEXT, random.Random(0))
    typed = with_typos(TEXT * 5, random.Random(3))
    assert typed != TEXT * 5 and abs(len(typed) - len(TEXT * 5)) < 20


def test_signatures_and_threads_are_added_only_where_they_happen() -> None:
    examples = [LabelledExample(id="a", body=TEXT, type="service_request", channel="sms"),
                LabelledExample(id="b", body=TEXT, type="service_request", channel="email")]
    sms, email = perturbed(examples, with_quoted_thread, channels=CHANNELS_OF["quoted_thread"])
    assert sms.body == TEXT and "wrote:" in email.body and email.type == "service_request"


def test_the_report_scores_every_perturbation(small_classifier: Classifier,
                                               seed_split: tuple[list[LabelledExample], list[LabelledExample]]) -> None:
    report = robustness_report(small_classifier, seed_split[1][:40])
    assert set(report["perturbations"]) == {"original", *PERTURBATIONS}
    assert report["perturbations"]["original"]["macro_f1_drop"] == 0.0
    assert "worst drop" in format_report(report)
