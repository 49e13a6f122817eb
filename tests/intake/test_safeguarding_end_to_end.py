"""A person at risk reaches the safeguarding queue from every channel, with the 999 advice and the
national helplines in the acknowledgement and none of their words quoted back; junk is kept but
never acknowledged; a hazard praised as fixed starts no Awaab's Law clock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from channels.message import InboundMessage
from intake.pipeline import ingest
from models import Acknowledgement, Deadline, Item
from tests.factories import email_message, sms_message
from triage_rules.acknowledgement_wording import GSM7_BASIC, sms_segments

HELPLINES = ("999", "0808 2000 247", "116 123")

# Each is a message about something else, with the risk disclosed in passing or by someone else.
DISCLOSURES = {
    "web_form": (
        "Can I change my direct debit date to the 15th? Also my ex keeps turning up at the flat at night "
        "and I'm scared to let the repair men in when he's about.",
        "turning up at the flat at night",
    ),
    "email": (
        "Please could you send me a rent statement. Separately, the gentleman at number 7 has a lodger "
        "who is taking his pension every week and he looks frightened of him.",
        "taking his pension every week",
    ),
    "sms": ("hi can u fix my letterbox flap. my partner checks my phone so pls only email me", "checks my phone"),
    "call_transcript": (
        "Agent: repairs good morning how can I help\nCaller: hi it's about my bathroom light it flickers\n"
        "Agent: okay I can book that\nCaller: and I don't know who to tell but the kids next door are left "
        "on their own most nights, the little one was crying on the balcony at eleven",
        "crying on the balcony",
    ),
}


def _message(channel: str, body: str) -> InboundMessage:
    if channel == "email":
        return email_message(body, subject="Rent statement")
    if channel == "sms":
        return sms_message(body, phone="+447911123457")
    return InboundMessage(
        channel=channel,
        external_id=f"{channel}-safeguarding-test",
        body=body,
        subject="Other" if channel == "web_form" else None,
        sender_address="resident@example.com" if channel == "web_form" else "+447911123456",
        sender_email="resident@example.com" if channel == "web_form" else None,
        sender_phone=None if channel == "web_form" else "+447911123456",
        sender_name="Pat Resident",
    )


@pytest.mark.parametrize("channel", sorted(DISCLOSURES))
def test_a_disclosure_in_passing_reaches_the_safeguarding_queue_with_helplines_and_no_quotation(
    runtime, channel: str  # type: ignore[no-untyped-def]
) -> None:
    body, resident_words = DISCLOSURES[channel]
    result = ingest(runtime, _message(channel, body))

    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert "safeguarding" in item.flags
        assert item.queue in ("safeguarding", "emergency")  # emergency only when a danger is also now
        assert item.case_status == "open"  # never auto-closed
        acknowledgement = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == item.id)
        ).one()
        assert acknowledgement.status in ("pending", "sent", "delivered")
        text = acknowledgement.body_text
        for number in HELPLINES:
            assert number in text, (channel, text)
        assert resident_words not in text and resident_words not in (acknowledgement.body_html or "")
        assert resident_words not in (acknowledgement.subject or "")
        if acknowledgement.channel == "sms":
            assert sms_segments(text) <= 2 and set(text) <= GSM7_BASIC


def test_phishing_is_kept_in_not_for_triage_and_never_acknowledged(runtime) -> None:  # type: ignore[no-untyped-def]
    phishing = (
        "Dear user,\n\nYour mailbox password will expire in 24 hours. To keep using your account without "
        "interruption please validate your credentials using the link below.\n\nValidate Now\n\n"
        "Failure to validate will result in your mailbox being suspended.\n\nIT Service Desk"
    )
    result = ingest(runtime, email_message(phishing, subject="Your password expires today",
                                           sender="it-support@helpdesk-validate.example"))

    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.queue == "not_for_triage"
        assert item.type is None and item.explanation["junk"] is True
        assert item.body == phishing  # kept, findable
        acknowledgements = session.scalars(
            select(Acknowledgement).where(Acknowledgement.item_id == item.id)
        ).all()
        assert all(a.status == "suppressed" for a in acknowledgements)
    assert not (runtime.settings.outbox_dir / "email").exists() or not any(
        (runtime.settings.outbox_dir / "email").iterdir()
    )


def test_thanks_for_treated_mould_starts_no_awaabs_law_clock(runtime) -> None:  # type: ignore[no-untyped-def]
    result = ingest(runtime, email_message(
        "Thank you for getting the mould in my bedroom treated so quickly. The two men were polite and the "
        "room smells fresh for the first time in months.", subject="Thank you"))

    with runtime.database.session() as session:
        item = session.get(Item, result.item_id)
        assert item.hazards == ["damp_and_mould"]  # recorded
        assert item.explanation["hazard_state"] == "resolved"
        assert "Awaab" not in (item.explanation.get("hazard_reason") or "") or "no" in item.explanation["hazard_reason"]
        kinds = {d.kind for d in session.scalars(select(Deadline).where(Deadline.item_id == item.id))}
        assert "investigate_hazard" not in kinds and "make_safe" not in kinds
