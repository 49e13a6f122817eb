"""Emails: the newest reply only — no quoted history, signature or legal disclaimer."""

from __future__ import annotations

from classifier.preparation import prepare
from classifier.preparation.email import split_email, strip_disclaimer

REPLY_WITH_HISTORY = """This is the third time I have emailed about the extractor fan. Nobody has come.

D. Okafor

On Tue, 6 Jan 2026 at 09:41, Repairs Team <repairs@landlord.example> wrote:
> Dear Mr Okafor,
>
> We have raised a routine repair. Routine repairs are completed within 20 working days.
>
> Kind regards
> Repairs Team
"""

OUTLOOK_REPLY = """Please can you tell me when the roofer is coming?

From: Repairs <repairs@landlord.example>
Sent: 03 March 2026 10:00
To: Jo Bloggs
Subject: Roof repair

Your compliment has been passed to the team.
"""

WITH_SIGNATURE_AND_DISCLAIMER = """Dear Sir or Madam,

I write on behalf of my constituent about his transfer application.

Yours faithfully,

Sarah Okafor
Office of Peter Amis MP

UK Parliament Disclaimer: this e-mail is confidential to the intended recipient. If you have received it in error, please notify the sender.
"""


def test_quoted_history_is_removed() -> None:
    parts = split_email(REPLY_WITH_HISTORY)
    assert "third time" in parts.body
    assert "routine repair" not in parts.body
    assert "routine repair" in parts.quoted


def test_outlook_style_headers_start_the_quoted_part() -> None:
    parts = split_email(OUTLOOK_REPLY)
    assert parts.body.startswith("Please can you tell me")
    assert "compliment" not in parts.body


def test_signature_is_cut_for_the_model_but_kept_for_the_rules() -> None:
    parts = split_email(WITH_SIGNATURE_AND_DISCLAIMER)
    assert "constituent" in parts.body
    assert "Peter Amis MP" not in parts.body
    assert "Peter Amis MP" in parts.with_signature


def test_legal_disclaimer_is_removed_from_both() -> None:
    parts = split_email(WITH_SIGNATURE_AND_DISCLAIMER)
    assert "intended recipient" not in parts.body
    assert "intended recipient" not in parts.with_signature


def test_disclaimer_patterns_cover_common_wordings() -> None:
    text = "My boiler is broken.\n\nThis email and any attachments are confidential and may be privileged."
    assert strip_disclaimer(text) == "My boiler is broken."
    regulated = "We act for the tenant.\n\nSmith LLP is authorised and regulated by the Solicitors Regulation Authority."
    assert strip_disclaimer(regulated) == "We act for the tenant."


def test_a_message_that_is_only_a_greeting_is_not_emptied() -> None:
    assert prepare("Thanks", channel="email").text == "Thanks"


def test_prepare_records_what_it_did_and_keeps_the_signature_for_rules() -> None:
    prepared = prepare(REPLY_WITH_HISTORY, channel="email", subject="Re: Your repair request")
    assert "quoted_history_removed" in prepared.steps
    assert "routine repair" not in prepared.text
    assert prepared.subject == "Re: Your repair request"


def test_reading_with_patterns_built_once_is_the_parsers_own_read() -> None:
    """split_email hands the reply parser's patterns, built once, to each EmailMessage; the parser's
    own read() builds them per email. Every reply, header, signature and disclaimer is the same."""
    from mailparser_reply.parser import EmailMessage

    from classifier.data import load_examples, seed_files
    from classifier.preparation.email import KEEP_HYPHEN_LISTS, _parser, _read_replies

    texts = [REPLY_WITH_HISTORY, OUTLOOK_REPLY, WITH_SIGNATURE_AND_DISCLAIMER, "", "Thanks\n\nSent from my iPhone"]
    texts += [example.body for example in load_examples(seed_files()) if example.channel == "email"]

    def parts(text: str, read_with_patterns_built_once: bool) -> list[tuple[object, ...]]:
        message = (_read_replies(text) if read_with_patterns_built_once
                   else EmailMessage(text=text, languages=list(_parser().languages),
                                     keep_hyphen_lists=KEEP_HYPHEN_LISTS).read())
        return [(reply.content, reply.headers, reply.signatures, reply.disclaimers) for reply in message.replies]

    cut = 0
    for text in texts:
        assert parts(text, True) == parts(text, False)
        cut += len(parts(text, True)) > 1
    assert cut > 10  # emails with quoted history were among them


LIST_THEN_DISCLOSURE = """Hello,

Could you tell me:
- when the fence panel will be replaced;
- whether I can put up a gate myself.

One more thing I don't know who else to tell. The boy next door has been sleeping in the stairwell,
he says his stepdad threw him out and he asked me for food.

Many thanks,
Sam Hollis
"""

LONG_TEXT_AFTER_A_THANKS = """Hi, the bathroom extractor still isn't working.

Thanks, and while I'm writing: my neighbour upstairs has not been seen for a week, her post is piling
up behind the door, the curtains have not moved, and her son rang me from Leeds because she does not
answer her phone. He asked me to tell someone. I have knocked twice and there was no answer. She is
in her eighties and uses a frame, and the last time I saw her she said she had had a fall on the
stairs and had not told anyone about it. I am worried something has happened to her in there.
"""


def test_a_hyphen_list_is_not_taken_for_a_signature() -> None:
    """The reply parser's default cuts from a line starting "- word" to the end: residents list their
    defects and questions that way, and what they write after the list must reach the model."""
    body = split_email(LIST_THEN_DISCLOSURE).body
    assert "whether I can put up a gate" in body
    assert "asked me for food" in body
    assert "Sam Hollis" not in body


def test_more_text_than_a_signature_after_a_sign_off_stays_in_the_body() -> None:
    parts = split_email(LONG_TEXT_AFTER_A_THANKS)
    assert "something has happened to her in there" in parts.body
    assert "something has happened to her in there" in parts.with_signature
