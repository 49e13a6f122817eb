"""A long message is also read a passage at a time for risk: a disclosure buried in it is not lost."""

from __future__ import annotations

from pathlib import Path

import pytest

import classifier.passages as passages
from classifier.classifier import Classifier
from classifier.passages import passages_of

SERVICE_CHARGE_PARAGRAPHS = [
    "I have received my service charge statement for the year and I would like some of the figures "
    "explained. The charge for communal cleaning has gone up from £3.10 to £4.85 a week, and I cannot see "
    "that the cleaning has changed at all. The cleaner comes on a Tuesday and is gone within the hour, and "
    "the stairs are often left wet and gritty.",
    "I would also like to know why there is a charge for the lift when our block does not have one. I think "
    "this may be a mistake carried over from the block next door, which does. If so, I would expect a refund "
    "for this year and for last year, when I think the same charge appeared.",
    "The grounds maintenance figure has also gone up, to £2.60 a week. We have a small strip of grass at the "
    "front and two bins. Could you tell me which contractor does this work and how often they are meant to "
    "come? I have not seen anyone cut the grass since August.",
    "I would also be grateful for a copy of the buildings insurance certificate, as I understand I am "
    "entitled to see it, and the name of the insurer. My daughter is helping me with my budget and she has "
    "asked me to get all the paperwork together in one place.",
    "Finally, could you send me the breakdown of the management fee, and tell me whether I can pay the "
    "increase in instalments over the rest of the year? I am on a fixed income and a lump sum would be "
    "difficult.",
]
# Said once, in passing, in the middle: a child left alone for the weekend and asking for food.
CHILD_ALONE = ("The little boy across the landing, he is about six, knocks most evenings asking whether I have "
               "any bread because there is nothing in. His mum goes out on Friday and he is by himself in the "
               "flat until Sunday night, I hear him crying through the wall.")


def read_whole_below_the_bar(classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    """Since the long-form training data (bw7-) the model reads CHILD_ALONE in the whole message at about
    its safeguarding bar (0.45); a stricter bar of 0.7, still under the passage bar of 0.75, keeps the
    case the passage-note tests are about: a whole message read below the bar, one passage above it."""
    monkeypatch.setitem(classifier.model.flag_thresholds, "safeguarding", 0.7)


def service_charge_email(*inserted: str) -> str:
    paragraphs = SERVICE_CHARGE_PARAGRAPHS[:3] + list(inserted) + SERVICE_CHARGE_PARAGRAPHS[3:]
    return "Dear Sir or Madam,\n\n" + "\n\n".join(paragraphs) + "\n\nYours faithfully,\nMargaret Ellison\nFlat 4"


def test_a_short_message_is_read_whole() -> None:
    assert passages_of("The boiler is broken again, please send someone.") == []


def test_a_long_email_is_read_a_paragraph_at_a_time() -> None:
    read = passages_of(service_charge_email(CHILD_ALONE))
    assert CHILD_ALONE in read
    assert len(read) == 7  # five paragraphs, the inserted one and the sign-off; the greeting is too short


def test_a_call_without_blank_lines_is_read_in_overlapping_windows_of_turns() -> None:
    turns = [f"Caller: this is turn number {number} of a long call about the rent account" for number in range(10)]
    read = passages_of("\n".join(turns))
    assert read[0].splitlines() == turns[:4]
    assert read[1].splitlines()[0] == turns[3]  # each window starts on the last line of the one before
    assert read[-1].splitlines()[-1] == turns[-1]


def test_a_child_left_alone_in_the_middle_of_a_long_email_reaches_the_safeguarding_queue(
    trained_model_dir: Path,
) -> None:
    result = Classifier.load(trained_model_dir).classify(service_charge_email(CHILD_ALONE), channel="email",
                                                         subject="Service charge statement query")
    assert "safeguarding" in result.flags
    assert result.queue == "safeguarding"


def test_the_note_says_which_passage_raised_the_flag(trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = Classifier.load(trained_model_dir)
    read_whole_below_the_bar(classifier, monkeypatch)
    text = service_charge_email(CHILD_ALONE)
    with monkeypatch.context() as patched:
        patched.setattr(passages, "MIN_MESSAGE_CHARS", 10**9)
        read_whole = classifier.classify(text, channel="email", subject="Service charge statement query")
    by_passage = classifier.classify(text, channel="email", subject="Service charge statement query")
    if "safeguarding" in read_whole.flags:
        pytest.fail("the model now reads this disclosure in the whole message: bury it deeper for this test")
    assert any(note.startswith("safeguarding raised by passage 4 of 6") for note in by_passage.explanation.flag_notes)


def test_reading_by_passage_changes_nothing_when_no_passage_is_at_risk(
    trained_model_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    classifier = Classifier.load(trained_model_dir)
    text = service_charge_email()
    by_passage = classifier.classify(text, channel="email", subject="Service charge statement query")
    monkeypatch.setattr(passages, "MIN_MESSAGE_CHARS", 10**9)
    read_whole = classifier.classify(text, channel="email", subject="Service charge statement query")
    assert by_passage.to_dict() == read_whole.to_dict()
