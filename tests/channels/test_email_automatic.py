"""Which mail is from a machine, and so must never be acknowledged."""

from __future__ import annotations

import pytest

from channels.email_automatic import detect_automatic, is_own_address


def _detect(
    headers: dict[str, str] | None = None,
    *,
    sender: str = "pat@example.net",
    subject: str = "Leak",
    **mime: str,
):  # type: ignore[no-untyped-def]
    return detect_automatic(headers or {}, sender_address=sender, subject=subject, **mime)


def test_a_persons_message_is_not_automatic() -> None:
    assert _detect({"from": "Pat <pat@example.net>", "auto-submitted": "no"}) is None


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({"auto-submitted": "auto-replied"}, "auto_reply"),
        ({"auto-submitted": "auto-generated; owner-email=x@example.net"}, "auto_reply"),
        ({"x-auto-response-suppress": "All"}, "auto_reply"),
        ({"x-auto-response-suppress": "DR, RN, NRN, OOF"}, "auto_reply"),
        ({"precedence": "bulk"}, "bulk"),
        ({"precedence": "junk"}, "bulk"),
        ({"precedence": "list"}, "bulk"),
        ({"list-id": "<tenants.lists.example.org>"}, "bulk"),
        ({"list-unsubscribe": "<mailto:leave@example.org>"}, "bulk"),
        ({"x-autoreply": "yes"}, "out_of_office"),
        ({"return-path": "<>"}, "auto_reply"),
    ],
)
def test_automatic_headers_are_recognised(headers: dict[str, str], kind: str) -> None:
    verdict = _detect(headers)

    assert verdict is not None and verdict.kind == kind
    assert verdict.reason


def test_a_precedence_that_is_not_bulk_is_not_automatic() -> None:
    assert _detect({"precedence": "first-class"}) is None
    assert _detect({"x-auto-response-suppress": "None"}) is None


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.example.net", "postmaster@outlook.com", "mailer-daemon@googlemail.com"]
)
def test_mail_system_senders_are_bounces(sender: str) -> None:
    verdict = _detect(sender=sender, subject="Returned mail: see transcript")

    assert verdict is not None and verdict.kind == "bounce"


def test_a_delivery_status_report_is_a_bounce_and_a_read_receipt_is_not() -> None:
    dsn = _detect(content_type="multipart/report", report_type="delivery-status")
    mdn = _detect(content_type="multipart/report", report_type="disposition-notification")

    assert dsn is not None and dsn.kind == "bounce"
    assert mdn is not None and mdn.kind == "read_receipt"


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: [CMP-2026-000001] We have received your complaint",
        "Out of Office: Leak",
        "Auto: your message",
        "Autoreply: away",
        "AW: Abwesenheitsnotiz: Ihre Nachricht",
        "Réponse automatique : absence",
    ],
)
def test_out_of_office_subjects_are_recognised(subject: str) -> None:
    verdict = _detect(subject=subject)

    assert verdict is not None and verdict.kind == "out_of_office"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of office hours repair line not answering",
        "Delivery of my new fridge",
        "Automatic doors broken",
        "Re: leak",
    ],
)
def test_residents_subjects_that_merely_resemble_robots_are_not_automatic(subject: str) -> None:
    assert _detect(subject=subject) is None


@pytest.mark.parametrize(
    "sender",
    ["noreply@forms.example.com", "no-reply@example.com", "donotreply@example.com", "do-not-reply@x.example"],
)
def test_no_reply_senders_are_not_acknowledged(sender: str) -> None:
    verdict = _detect(sender=sender)

    assert verdict is not None and verdict.kind == "no_reply_sender"


def test_own_addresses_match_exactly_or_by_whole_domain() -> None:
    own = ["contact@riverside-homes.example", "@staff.riverside-homes.example"]

    assert is_own_address("Contact@Riverside-Homes.example", own)
    assert is_own_address("sam.patel@staff.riverside-homes.example", own)
    assert not is_own_address("resident@riverside-homes.example.evil.net", own)
    assert not is_own_address("pat@example.net", own)
    assert not is_own_address(None, own)
