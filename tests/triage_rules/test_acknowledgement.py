"""Acknowledgements: plain English, the right dates in words, the right warnings, SMS in two segments."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from triage_rules.acknowledgement_wording import (
    GSM7_BASIC,
    RenderedAcknowledgement,
    date_in_words,
    render_acknowledgement,
    sms_segments,
)
from triage_rules.deadlines import ComputedDeadline, compute_deadlines
from triage_rules.policies import PolicyProfile, list_policies, load_policy
from triage_rules.working_days import WorkingCalendar

LONDON = ZoneInfo("Europe/London")
ENGLAND = WorkingCalendar("england")
TYPES: list[str | None] = ["complaint", "service_request", "enquiry", "compliment", "suggestion", None]
EVERY_FLAG = [
    "urgent_safety",
    "safeguarding",
    "designated_person",
    "third_party",
    "non_english",
    "misconduct",
    "ombudsman",
    "abusive",
]
RESIDENT_WORDS = "The mould in Amelia's bedroom at 14 Oak Street is back again"


def acknowledge(
    channel: str,
    item_type: str | None,
    *,
    policy: str = "tuntum",
    flags: list[str] | None = None,
    hazards: list[str] | None = None,
    received: datetime | None = None,
    purpose: str = "received",
    stage: str | None = None,
    recipient_name: str | None = "Sam Jones",
    reference: str = "CMP-2026-000123",
) -> RenderedAcknowledgement:
    profile = load_policy(policy)
    flags = flags or []
    if item_type == "complaint" and stage is None:
        stage = purpose if purpose.startswith("stage_") else "stage_1"
    deadlines = compute_deadlines(
        profile,
        item_type=item_type,
        stage=stage,
        received_at=received or datetime(2026, 11, 30, 10, tzinfo=LONDON),
        flags=flags,
        hazards=hazards or [],
        calendar=ENGLAND,
    )
    return render_acknowledgement(
        channel=channel,
        item_type=item_type,
        reference=reference,
        flags=flags,
        deadlines=deadlines,
        policy=profile,
        recipient_name=recipient_name,
        purpose=purpose,
        stage=stage,
        original_subject=RESIDENT_WORDS,
    )


# --- SMS segments --------------------------------------------------------------------------


def test_gsm_7_texts_fit_160_characters_in_one_segment_and_153_in_each_after() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3
    assert sms_segments("£" * 160) == 1  # £ is in the GSM basic set


def test_gsm_7_extension_characters_count_twice() -> None:
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2
    assert sms_segments("[" * 153) == 2


def test_a_character_outside_gsm_7_makes_the_whole_text_ucs_2() -> None:
    assert sms_segments("ë" * 70) == 1
    assert sms_segments("ë" * 71) == 2
    assert sms_segments("a" * 133 + "’") == 2  # a curly apostrophe: two segments is 134 characters
    assert sms_segments("a" * 134 + "’") == 3
    assert sms_segments("😀" * 35) == 1  # outside the BMP: two UTF-16 units each


@pytest.mark.parametrize("policy", list_policies())
@pytest.mark.parametrize("item_type", TYPES)
def test_every_sms_template_fits_two_segments_in_its_worst_case(policy: str, item_type: str | None) -> None:
    profile = load_policy(policy)
    purposes = ["received"]
    if item_type == "complaint":
        purposes += ["complaint"] + [s.id for s in profile.stages if s.id not in ("stage_0", "stage_1")]
    # The longest day and month names (Wednesday, September) and a seven-digit item number.
    for purpose in purposes:
        for received in (datetime(2026, 9, 16, 10, tzinfo=LONDON), datetime(2026, 9, 2, 10, tzinfo=LONDON)):
            rendered = acknowledge(
                "sms",
                item_type,
                policy=policy,
                flags=EVERY_FLAG,
                hazards=["damp_and_mould"],
                received=received,
                purpose=purpose,
                reference="CMP-2026-1234567",
                recipient_name="Zoë Ñúñez-Öztürk",
            )
            assert rendered.subject == "" and rendered.html is None
            assert sms_segments(rendered.text) <= 2, (purpose, len(rendered.text), rendered.text)
            assert set(rendered.text) <= GSM7_BASIC, "an SMS must stay in GSM-7 or it halves its room"
            assert rendered.text.startswith(("If anyone is in danger call 999", "Danger? Call 999"))
            assert (
                "0800 111 999" in rendered.text and profile.contact.emergency_repairs_phone in rendered.text
            )


def test_an_sms_complaint_acknowledgement_gives_the_reference_date_and_ombudsman() -> None:
    text = acknowledge("sms", "complaint", received=datetime(2026, 11, 30, 10, tzinfo=LONDON)).text
    assert "CMP-2026-000123" in text
    assert "Monday 14 December 2026" in text  # 10 working days
    assert "0300 111 3000" in text


def test_an_urgent_sms_starts_with_the_emergency_numbers() -> None:
    text = acknowledge("sms", "service_request", flags=["urgent_safety"]).text
    assert text.startswith("If anyone is in danger call 999")
    assert "0800 111 999" in text and load_policy("tuntum").contact.emergency_repairs_phone in text


# --- email ---------------------------------------------------------------------------------


def test_an_email_subject_starts_with_the_reference_and_never_echoes_the_residents_subject() -> None:
    for item_type in TYPES:
        rendered = acknowledge("email", item_type)
        assert rendered.subject.startswith("[CMP-2026-000123] ")
        for part in (rendered.subject, rendered.text, rendered.html or ""):
            assert "Oak Street" not in part and "Amelia" not in part


def test_a_complaint_email_says_what_happens_next_with_dates_in_words_and_the_ombudsman() -> None:
    rendered = acknowledge("email", "complaint", received=datetime(2026, 11, 30, 10, tzinfo=LONDON))
    text = rendered.text
    assert "What happens next" in text
    assert "Monday 14 December 2026" in text
    assert "stage 2" in text  # how to escalate
    assert "0300 111 3000" in text and "housing-ombudsman.org.uk" in text
    assert "0115 916 6066" in text and "admin@tuntum.co.uk" in text  # the landlord's contact route
    assert rendered.html is not None and "Monday 14 December 2026" in rendered.html


def test_the_last_stage_says_it_is_final_and_points_to_the_ombudsman() -> None:
    text = acknowledge("email", "complaint", purpose="stage_2").text
    assert "final stage" in text and "0300 111 3000" in text
    assert "moved your complaint to stage 2" in text


def test_a_service_request_become_a_complaint_says_so() -> None:
    rendered = acknowledge("email", "service_request", purpose="complaint")
    assert "formal complaint at stage 1" in rendered.text
    assert "0300 111 3000" in rendered.text
    assert "now handling this as a complaint" in rendered.subject


@pytest.mark.parametrize("item_type", ["compliment", "suggestion", "enquiry", "service_request", None])
def test_only_complaints_carry_ombudsman_signposting(item_type: str | None) -> None:
    assert "Housing Ombudsman" not in acknowledge("email", item_type).text


def test_an_urgent_safety_email_puts_the_emergency_lines_before_anything_else() -> None:
    rendered = acknowledge(
        "email",
        "service_request",
        flags=["urgent_safety"],
        received=datetime(2026, 11, 30, 10, tzinfo=LONDON),
    )
    first_lines = rendered.text.splitlines()[:3]
    assert first_lines[0] == "If anyone is in danger, call 999 now."
    assert "National Gas Emergency line on 0800 111 999" in first_lines[1]
    assert "emergency repairs line on 0115 496 0999" in first_lines[2]
    assert "by 10:00am on Tuesday 1 December 2026" in rendered.text  # made safe within 24 hours
    assert "999" in rendered.subject
    assert rendered.html is not None and rendered.html.index("call 999") < rendered.html.index("Dear")


@pytest.mark.parametrize("item_type", TYPES)
@pytest.mark.parametrize("urgent", [False, True])
def test_a_safeguarding_email_gives_999_and_the_national_helplines_first_and_never_quotes_the_message(
    item_type: str | None, urgent: bool
) -> None:
    flags = ["safeguarding", "urgent_safety"] if urgent else ["safeguarding"]
    rendered = acknowledge("email", item_type, flags=flags)
    first = rendered.text.split("Dear Sam Jones,")[0]
    assert first.startswith("If anyone is in danger, call 999 now.")
    assert "press 55" in first
    assert "National Domestic Abuse Helpline" in first and "0808 2000 247" in first
    assert "Samaritans" in first and "116 123" in first
    assert RESIDENT_WORDS not in rendered.text and "mould in Amelia" not in (rendered.html or "")
    assert "Amelia" not in rendered.subject
    if not urgent:  # a preview others in the home may see says nothing of what it is about
        assert rendered.subject == "[CMP-2026-000123] We have received your message"


@pytest.mark.parametrize("policy", list_policies())
@pytest.mark.parametrize("urgent", [False, True])
def test_a_safeguarding_sms_gives_999_and_the_helplines_within_two_segments(policy: str, urgent: bool) -> None:
    flags = ["safeguarding", "third_party", "non_english"] + (["urgent_safety"] if urgent else [])
    rendered = acknowledge("sms", "complaint", policy=policy, flags=flags, hazards=["damp_and_mould"],
                           received=datetime(2026, 9, 16, 10, tzinfo=LONDON), reference="CMP-2026-1234567")
    assert sms_segments(rendered.text) <= 2 and set(rendered.text) <= GSM7_BASIC
    assert rendered.text.startswith(("If anyone is in danger call 999", "Danger? Call 999"))
    assert "0808 2000 247" in rendered.text and "116 123" in rendered.text
    assert "CMP-2026-1234567" in rendered.text
    assert ("0800 111 999" in rendered.text) is urgent


def test_damp_and_mould_gets_its_inspection_date() -> None:
    text = acknowledge(
        "email", "compliment", hazards=["damp_and_mould"], received=datetime(2026, 11, 30, 10, tzinfo=LONDON)
    ).text
    assert "damp or mould" in text and "Monday 14 December 2026" in text


def test_a_designated_person_gets_a_formal_letter() -> None:
    rendered = acknowledge(
        "email", "enquiry", policy="halton", flags=["designated_person"], recipient_name="Cllr Pat Evans"
    )
    assert rendered.text.startswith("Dear Cllr Pat Evans,")
    assert "Thank you for your enquiry on behalf of your constituent" in rendered.text
    assert "formal enquiry" in rendered.text
    assert "Yours sincerely," in rendered.text
    anonymous = acknowledge(
        "email", "enquiry", policy="halton", flags=["designated_person"], recipient_name=None
    )
    assert anonymous.text.startswith("Dear Sir or Madam,") and "Yours faithfully," in anonymous.text


def test_a_resident_gets_a_friendly_greeting() -> None:
    assert acknowledge("email", "enquiry").text.startswith("Dear Sam Jones,")
    assert acknowledge("email", "enquiry", recipient_name=None).text.startswith("Hello,")
    assert acknowledge("email", "enquiry", recipient_name="sam@example.org").text.startswith("Hello,")


def test_a_non_english_message_is_acknowledged_in_plain_english_offering_translation() -> None:
    text = acknowledge("email", "complaint", flags=["non_english"]).text
    assert "another language" in text and "translation" in text


def test_the_html_is_escaped() -> None:
    rendered = acknowledge("email", "complaint", recipient_name="Sam <script>Jones</script> & Co")
    assert rendered.html is not None
    assert (
        "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html and "&amp; Co" in rendered.html
    )
    assert "<h2" in rendered.html and "<p>" in rendered.html


def test_every_profile_and_type_renders_without_placeholders_left() -> None:
    for policy in list_policies():
        for item_type in TYPES:
            for channel in ("email", "sms"):
                rendered = acknowledge(
                    channel, item_type, policy=policy, flags=EVERY_FLAG, hazards=["damp_and_mould"]
                )
                assert "{" not in rendered.text and "None" not in rendered.text
                assert rendered.text.strip()


def test_an_unknown_channel_or_purpose_is_refused() -> None:
    with pytest.raises(ValueError, match="channel"):
        acknowledge("fax", "complaint")
    with pytest.raises(ValueError, match="purpose"):
        acknowledge("email", "complaint", purpose="closed")


def test_dates_are_in_words_in_london_time() -> None:
    # 23:30 UTC on 3 December is still 3 December in London in winter, but 1 July 23:30 UTC is 2 July.
    assert date_in_words(datetime.fromisoformat("2026-12-03T23:30:00+00:00")) == "Thursday 3 December 2026"
    assert date_in_words(datetime.fromisoformat("2026-07-01T23:30:00+00:00")) == "Thursday 2 July 2026"


def test_a_deadline_handed_in_by_the_pipeline_is_used_as_it_is() -> None:
    profile: PolicyProfile = load_policy("ombudsman-2024")
    due = datetime.fromisoformat("2026-12-04T23:59:59+00:00")
    rendered = render_acknowledgement(
        channel="email",
        item_type="complaint",
        reference="CMP-2026-000001",
        flags=[],
        deadlines=[
            ComputedDeadline(kind="respond", stage="stage_1", due_at=due, basis="test", policy=profile.name)
        ],
        policy=profile,
        recipient_name=None,
    )
    assert "Friday 4 December 2026" in rendered.text
    assert "stage 1" in rendered.text
