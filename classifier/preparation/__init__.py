"""Channel-aware text preparation: what the model and the rules read, never what staff see.

`prepare()` returns the text to classify for one message, the original stays untouched on the
item. HTML becomes text (inscriptis); emails lose quoted history, signature and disclaimer; SMS
shorthand is expanded; call transcripts are split into caller and agent sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from classifier.config import MAX_MODEL_CHARS
from classifier.preparation.email import split_email
from classifier.preparation.html import html_to_text, looks_like_html
from classifier.preparation.sanity import clean_control_characters, unusable_reason
from classifier.preparation.sms import expand_shorthand
from classifier.preparation.transcript import split_transcript

__all__ = ["PreparedText", "prepare"]

# Channels whose subject line is written by the sender (a web form's "topic" is a menu choice,
# still informative). Subjects like "Re: Your repair request" are kept: "Re:" is a signal too.
CHANNELS_WITH_SUBJECT = frozenset({"email", "web_form"})


@dataclass(frozen=True)
class PreparedText:
    text: str  # what the model reads (the caller's side of a call)
    # What the rules read, as docs/rules.md agrees: an email keeps its signature (it names MPs and
    # councillors), an SMS is read expanded, a call by its caller's turns.
    rules_text: str
    subject: str | None
    agent_text: str = ""  # the agent's side of a call, weighted down
    steps: tuple[str, ...] = field(default_factory=tuple)  # what was done, for the explanation
    unusable: str | None = None  # why there is nothing to classify (then text is "")


def prepare(text: str, *, channel: str = "email", subject: str | None = None) -> PreparedText:
    steps: list[str] = []
    reason = unusable_reason(text)  # before cleaning: control characters are a sign of binary data
    cleaned = clean_control_characters(text)
    if reason is None and cleaned != text:  # the same text would get the same (no) reason again
        reason = unusable_reason(cleaned)
    if reason is None and len(text) > 2 * MAX_MODEL_CHARS:
        # Only the start of a very long message is read; the rest adds little and costs time.
        cleaned = cleaned[: 2 * MAX_MODEL_CHARS]
        steps.append("truncated")
    if reason is None and looks_like_html(cleaned):
        cleaned = html_to_text(cleaned)
        steps.append("html_to_text")
        reason = unusable_reason(cleaned)
    subject = _clean_subject(subject) if channel in CHANNELS_WITH_SUBJECT else None
    if reason is not None:
        return PreparedText(text="", rules_text=cleaned, subject=subject, steps=tuple(steps), unusable=reason)

    agent = ""
    rules_text = cleaned
    if channel == "email":
        parts = split_email(cleaned)
        if parts.quoted:
            steps.append("quoted_history_removed")
        if len(parts.body) < len(parts.with_signature):
            steps.append("signature_removed")
        main, rules_text = parts.body or cleaned, parts.with_signature or cleaned
    elif channel == "sms":
        main = rules_text = expand_shorthand(cleaned)
        if main != cleaned:
            steps.append("sms_shorthand_expanded")
    elif channel == "call_transcript":
        transcript = split_transcript(cleaned)
        main, agent = transcript.caller, transcript.agent
        rules_text = main
        if transcript.labelled:
            steps.append("agent_turns_weighted_down")
    else:
        main = cleaned
    if len(main) > MAX_MODEL_CHARS:
        main = main[:MAX_MODEL_CHARS]
        if "truncated" not in steps:
            steps.append("truncated")
    reason = unusable_reason(main + subject if subject else main)
    return PreparedText(
        text=main if reason is None else "",
        rules_text=rules_text,
        subject=subject,
        agent_text=agent[:MAX_MODEL_CHARS],
        steps=tuple(steps),
        unusable=reason,
    )


def _clean_subject(subject: str | None) -> str | None:
    if subject is None:
        return None
    subject = clean_control_characters(subject).strip()
    return subject[:500] or None
