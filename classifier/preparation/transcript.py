"""Call transcripts: find who is the caller and who is the agent, so the caller's words can count more.

Speaker labels vary ("Agent:/Caller:", "AGENT:/CUSTOMER:", "Advisor:/Tenant:", "Speaker 1:/
Speaker 2:", "[00:00:03] Agent: …"); voicemails have none and are all caller. A label that names a
role decides; otherwise the speaker with the most scripted agent phrases ("how can I help", "can I
take your postcode") is the agent, and on a tie the first speaker is (calls are answered by staff).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from classifier.resources import load_resource

# Optional timestamp ("[00:00:03]", "(0:03)", "00:03 -"), a short label, optional "(name)", colon.
_TURN = re.compile(
    r"^\s*(?:[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?[\])]?\s*[-–—]?\s*)?"
    r"(?P<label>[A-Za-z][A-Za-z0-9 ._'/-]{0,29}?)\s*(?:\([^)]{0,40}\))?\s*:\s*(?P<text>.*)$"
)
_TIMESTAMP_ONLY = re.compile(r"^\s*[\[(]?\d{1,2}:\d{2}(?::\d{2})?[\])]?\s*")
# Words that open ordinary lines in a voicemail or note ("Address: …"), not speaker labels.
_NOT_SPEAKERS = frozenset({"address", "tel", "phone", "telephone", "mobile", "ref", "reference", "note", "re",
                           "subject", "date", "time", "email", "postcode", "name", "flat", "job ref", "http",
                           "https", "ps", "p.s", "nb"})


@dataclass(frozen=True)
class Turn:
    speaker: str  # the label as written, normalised ("speaker 1", "agent"); "" when unlabelled
    text: str


@dataclass(frozen=True)
class TranscriptParts:
    caller: str  # everything the caller said, in order
    agent: str  # everything the agent said
    labelled: bool  # False for an unlabelled voicemail / monologue: all of it is the caller
    agent_speakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpeakerCues:
    agent_labels: frozenset[str]
    caller_labels: frozenset[str]
    agent_phrases: tuple[str, ...]
    caller_phrases: tuple[str, ...]
    greetings: tuple[re.Pattern[str], ...]


@cache
def _speaker_cues() -> SpeakerCues:
    raw = load_resource("transcript_speakers.yaml")
    return SpeakerCues(
        agent_labels=frozenset(label.lower() for label in raw["agent_labels"]),
        caller_labels=frozenset(label.lower() for label in raw["caller_labels"]),
        agent_phrases=tuple(phrase.lower() for phrase in raw["agent_phrases"]),
        caller_phrases=tuple(phrase.lower() for phrase in raw["caller_phrases"]),
        greetings=tuple(re.compile(pattern, re.IGNORECASE) for pattern in raw["greeting_patterns"]),
    )


def _normalise_label(label: str) -> str:
    return re.sub(r"\s+", " ", label.strip().lower().replace("_", " "))


def parse_turns(text: str) -> list[Turn]:
    """Turns in order; unlabelled lines continue the previous turn. [] when the text has no labels."""
    lines = [line for line in text.splitlines() if line.strip()]
    turns: list[Turn] = []
    labelled_lines = 0
    for line in lines:
        match = _TURN.match(line)
        label = _normalise_label(match.group("label")) if match else ""
        if match and label not in _NOT_SPEAKERS and len(label.split()) <= 4:
            labelled_lines += 1
            turns.append(Turn(speaker=label, text=match.group("text").strip()))
        elif turns:
            continuation = _TIMESTAMP_ONLY.sub("", line).strip()
            turns[-1] = Turn(speaker=turns[-1].speaker, text=f"{turns[-1].text} {continuation}".strip())
        else:
            turns.append(Turn(speaker="", text=line.strip()))
    speakers = {turn.speaker for turn in turns if turn.speaker}
    # A transcript has at least two labelled turns and labels on most lines; otherwise a stray
    # "Re: boiler" line would turn a voicemail into a dialogue.
    if labelled_lines < 2 or labelled_lines < 0.5 * len(lines) or not speakers:
        return []
    return turns


def _role_of_label(label: str) -> str | None:
    cues = _speaker_cues()
    parts = [label, *re.split(r"[ /-]", label)]
    if any(part in cues.agent_labels for part in parts):
        return "agent"
    if any(part in cues.caller_labels for part in parts):
        return "caller"
    return None


def agent_score(utterances: list[str]) -> int:
    """Scripted agent phrases minus typical caller phrases, plus 2 for a short greeting first turn."""
    cues = _speaker_cues()
    lowered = " ".join(utterances).lower().replace("\u2019", "'")
    score = sum(lowered.count(phrase) for phrase in cues.agent_phrases)
    score -= sum(lowered.count(phrase) for phrase in cues.caller_phrases)
    first = utterances[0] if utterances else ""
    if len(first.split()) <= 14 and any(pattern.search(first) for pattern in cues.greetings):
        score += 2
    return score


def identify_agents(turns: list[Turn]) -> set[str]:
    """The speaker labels that belong to the landlord's side of the call."""
    order: list[str] = []
    said: dict[str, list[str]] = defaultdict(list)
    for turn in turns:
        if turn.speaker not in said:
            order.append(turn.speaker)
        said[turn.speaker].append(turn.text)
    roles = {speaker: _role_of_label(speaker) for speaker in order}
    agents = {speaker for speaker, role in roles.items() if role == "agent"}
    unknown = [speaker for speaker, role in roles.items() if role is None and speaker]
    if agents or not unknown:
        return agents
    if any(role == "caller" for role in roles.values()):
        # The caller is named; any speaker whose label says nothing is staff.
        return set(unknown)
    if len(unknown) == 1:
        return set()
    scores = {speaker: agent_score(said[speaker]) for speaker in unknown}
    best = max(scores.values())
    # Highest score wins; on a tie the earliest speaker (who answered the call).
    return {next(speaker for speaker in unknown if scores[speaker] == best)}


def split_transcript(text: str) -> TranscriptParts:
    turns = parse_turns(text)
    if not turns:
        return TranscriptParts(caller=text.strip(), agent="", labelled=False)
    agents = identify_agents(turns)
    caller = "\n".join(turn.text for turn in turns if turn.speaker not in agents and turn.text)
    agent = "\n".join(turn.text for turn in turns if turn.speaker in agents and turn.text)
    return TranscriptParts(caller=caller, agent=agent, labelled=True, agent_speakers=tuple(sorted(agents)))
