"""Call transcripts: find the agent whatever the labels, so the caller's words count more."""

from __future__ import annotations

import pytest

from classifier.preparation import prepare
from classifier.preparation.transcript import parse_turns, split_transcript

CALLER_LINE = "the engineer never came again, third time now"


@pytest.mark.parametrize(
    ("agent_label", "caller_label"),
    [
        ("Agent", "Caller"),
        ("AGENT", "CUSTOMER"),
        ("Advisor", "Tenant"),
        ("Operator", "Resident"),
        ("Agent (Dionne)", "Caller"),
        ("Call Handler", "Customer"),
    ],
)
def test_role_labels_decide(agent_label: str, caller_label: str) -> None:
    text = f"{agent_label}: hello repairs\n{caller_label}: {CALLER_LINE}\n{agent_label}: I'm sorry to hear that"
    parts = split_transcript(text)
    assert parts.labelled
    assert parts.caller == CALLER_LINE
    assert "sorry to hear" in parts.agent


def test_timestamps_before_labels_are_understood() -> None:
    text = (
        "[00:00:01] Agent: good afternoon lettings team Farida speaking\n"
        f"[00:00:04] Caller: {CALLER_LINE}\n"
        "[00:00:08] Agent: of course can I take your name"
    )
    parts = split_transcript(text)
    assert parts.caller == CALLER_LINE
    assert "lettings team" in parts.agent


@pytest.mark.parametrize("agent_first", [True, False])
def test_speaker_numbers_are_resolved_by_scripted_agent_phrases(agent_first: bool) -> None:
    agent_lines = ["thank you for calling Northfield Homes you're speaking to Sam how can I help",
                   "okay can I take your postcode please", "I'll raise that with the contractor"]
    caller_lines = ["yeah I'm ringing about my boiler again", "it's LS9 4RT", CALLER_LINE]
    agent_speaker, caller_speaker = ("Speaker 1", "Speaker 2") if agent_first else ("Speaker 2", "Speaker 1")
    turns = []
    if not agent_first:
        turns.append(f"{caller_speaker}: hello? is that the repairs line")
    for agent_line, caller_line in zip(agent_lines, caller_lines, strict=True):
        turns += [f"{agent_speaker}: {agent_line}", f"{caller_speaker}: {caller_line}"]
    parts = split_transcript("\n".join(turns))
    assert parts.agent_speakers == (agent_speaker.lower(),)
    assert CALLER_LINE in parts.caller
    assert "postcode" in parts.agent


def test_a_greeting_identifies_the_agent_even_when_the_caller_gives_their_name() -> None:
    text = (
        "Speaker 1: complaints team, Robert speaking\n"
        "Speaker 2: hello, my name is Hodan Abdi, I want to complain about your housing officer\n"
        "Speaker 1: okay, go ahead\n"
        "Speaker 2: she was rude to me in my own home"
    )
    parts = split_transcript(text)
    assert parts.agent_speakers == ("speaker 1",)
    assert "rude" in parts.caller


def test_an_unlabelled_voicemail_is_all_caller() -> None:
    text = "hi it's Shauna from flat 6, the pipe under the sink is dripping, could someone come out, thanks bye"
    parts = split_transcript(text)
    assert not parts.labelled
    assert parts.caller == text
    assert parts.agent == ""


def test_a_voicemail_with_an_address_line_is_not_mistaken_for_a_dialogue() -> None:
    text = "hello it's Mr Patel, the boiler is broken again\nAddress: 63 Oakley Avenue\nplease call me back"
    assert parse_turns(text) == []


def test_continuation_lines_stay_with_their_speaker() -> None:
    text = "Agent: hello\nCaller: my ceiling is leaking\nand it's coming through the light\nAgent: okay"
    parts = split_transcript(text)
    assert "coming through the light" in parts.caller


def test_prepare_gives_the_model_the_caller_side() -> None:
    prepared = prepare(f"Agent: how can I help\nCaller: {CALLER_LINE}", channel="call_transcript")
    assert prepared.text == CALLER_LINE
    assert prepared.agent_text == "how can I help"
    assert "agent_turns_weighted_down" in prepared.steps
