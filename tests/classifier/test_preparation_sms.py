"""Text messages: shorthand expanded from the data table, the original left alone."""

from __future__ import annotations

from classifier.preparation import prepare
from classifier.preparation.sms import expand_shorthand, shorthand_table


def test_common_shorthand_is_expanded() -> None:
    text = "can sum1 come 2moro pls, ur engineer didnt turn up"
    assert expand_shorthand(text) == "can someone come tomorrow please, your engineer did not turn up"


def test_only_whole_words_are_replaced() -> None:
    assert expand_shorthand("urgent: the fuse box") == "urgent: the fuse box"
    assert expand_shorthand("Pls") == "please"


def test_ambiguous_words_are_not_in_the_table() -> None:
    table = shorthand_table()
    assert "ill" not in table  # "my mum is ill" must stay ill
    assert "id" not in table


def test_prepare_expands_only_sms() -> None:
    sms = prepare("pls can u fix my tap", channel="sms")
    assert sms.text == "please can you fix my tap"
    assert "sms_shorthand_expanded" in sms.steps
    assert sms.rules_text == sms.text  # the rules read the expanded text too (docs/rules.md)
    assert prepare("pls can u fix my tap", channel="web_form").text == "pls can u fix my tap"
