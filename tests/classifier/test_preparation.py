"""The dispatcher: HTML, bad input, long input — a clear answer, never a crash."""

from __future__ import annotations

import pytest

from classifier.config import MAX_MODEL_CHARS
from classifier.preparation import prepare
from classifier.preparation.html import looks_like_html

HTML = (
    "<html><body><p>My <b>boiler</b> has stopped working &amp; I have no hot water.</p>"
    "<div>Flat 3<br>Larch Close</div></body></html>"
)


def test_html_becomes_text() -> None:
    prepared = prepare(HTML, channel="email")
    assert "html_to_text" in prepared.steps
    assert "<b>" not in prepared.text
    assert "My boiler has stopped working & I have no hot water." in prepared.text


def test_text_with_a_stray_angle_bracket_is_not_html() -> None:
    assert not looks_like_html("I <3 the new kitchen, job ref <12345>")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty message"),
        ("   \n\t  ", "empty message"),
        ("😡😡😡", "no words"),
        ("12345 !!! ??", "no words"),
        ("\x00\x01\x02\x03garbage\x04\x05\x06\x07\x08\x0b\x0c\x0e", "unreadable"),
        ("\ufffd" * 50 + "abc", "unreadable"),
        ("<html><body><p> </p></body></html>", "empty message"),
    ],
)
def test_nothing_to_classify_gives_a_reason(text: str, reason: str) -> None:
    prepared = prepare(text, channel="sms")
    assert prepared.unusable is not None
    assert reason in prepared.unusable
    assert prepared.text == ""


def test_binary_garbage_is_unreadable() -> None:
    garbage = bytes(range(256)).decode("latin-1") * 20
    prepared = prepare(garbage, channel="email")
    assert prepared.unusable is not None


def test_very_long_text_is_truncated_for_the_model() -> None:
    text = "The roof is still leaking and nobody has come. " * 25_000  # about 1.2 MB
    prepared = prepare(text, channel="web_form")
    assert prepared.unusable is None
    assert len(prepared.text) <= MAX_MODEL_CHARS
    assert "truncated" in prepared.steps


def test_mixed_scripts_are_kept() -> None:
    text = "My boiler is broken. Мой котел сломан. 我的锅炉坏了"
    prepared = prepare(text, channel="web_form")
    assert prepared.unusable is None
    assert prepared.text == text


def test_subject_is_used_only_where_senders_write_one() -> None:
    assert prepare("text", channel="email", subject="Complaint").subject == "Complaint"
    assert prepare("text", channel="sms", subject="Complaint").subject is None
