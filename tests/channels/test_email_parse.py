"""Reading email: the corpus of real-world shapes, and what must hold for any bytes at all."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from channels.email_parse import parse_email, unreadable_message
from channels.email_text import decode_bytes, unflow
from tests.channels.email_builders import build_email

CORPUS = Path(__file__).with_name("email_corpus")
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
CORPUS_FILES = sorted(path.name for path in CORPUS.glob("*.eml"))


def test_the_corpus_has_fifty_messages_and_an_expectation_for_each() -> None:
    assert len(CORPUS_FILES) >= 50
    assert sorted(EXPECTED) == CORPUS_FILES


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_each_corpus_message_reads_as_expected(name: str) -> None:
    raw = (CORPUS / name).read_bytes()
    expected = EXPECTED[name]

    message = parse_email(raw)

    assert message.channel == "email"
    assert message.raw == raw
    assert message.raw_content_type == "message/rfc822"
    if expected.get("no_message_id"):
        assert message.external_id == f"<sha256:{hashlib.sha256(raw).hexdigest()}@no-message-id>"
    else:
        assert message.external_id.startswith("<") and message.external_id.endswith(">")
        assert message.external_id in raw.decode("ascii", "replace")
    if "sender" in expected:
        assert message.sender_address == expected["sender"] == message.sender_email
    if "name" in expected:
        assert message.sender_name == expected["name"]
    if "subject" in expected:
        assert message.subject == expected["subject"]
    for text in expected.get("body_contains", []):
        assert text in message.body
    for text in expected.get("body_excludes", []):
        assert text not in message.body
    if expected.get("body_is_empty"):
        assert message.body == ""
    if "attachments" in expected:
        assert [[a.filename, a.content_type] for a in message.attachments] == expected["attachments"]
    assert message.metadata.get("automatic") == expected.get("automatic")
    assert bool(message.suppress_acknowledgement_reason) == ("automatic" in expected)
    assert message.metadata.get("bounce_of") == expected.get("bounce_of")
    if "thread_keys" in expected:
        assert message.thread_keys[: len(expected["thread_keys"])] == expected["thread_keys"]
    if "thread_key_count" in expected:
        assert len(message.thread_keys) == expected["thread_key_count"]
    if "parse_error" in expected:
        assert expected["parse_error"] in (message.parse_error or "")
    else:
        assert message.parse_error is None
    # Nothing unreadable leaks through: no undecoded encoded words, no replacement characters.
    assert "=?" not in (message.subject or "") and "\ufffd" not in message.body


def test_every_attachment_carries_its_size_and_hash() -> None:
    for name in CORPUS_FILES:
        for attachment in parse_email((CORPUS / name).read_bytes()).attachments:
            assert attachment.content is not None
            assert attachment.size == len(attachment.content)
            assert attachment.sha256 == hashlib.sha256(attachment.content).hexdigest()


def test_an_attachment_over_the_limit_keeps_its_metadata_but_not_its_bytes() -> None:
    big = random.Random(7).randbytes(300_000)
    small = b"%PDF-1.4 small"
    raw = build_email(
        "Photos attached.",
        attachments=[("kitchen.jpg", "image/jpeg", big), ("letter.pdf", "application/pdf", small)],
    )

    message = parse_email(raw, max_attachment_bytes=100_000)

    photo, letter = message.attachments
    assert (photo.filename, photo.size, photo.content) == ("kitchen.jpg", len(big), None)
    assert photo.sha256 == hashlib.sha256(big).hexdigest()
    assert letter.content == small
    assert message.metadata["attachments_over_limit"] == ["kitchen.jpg"]
    assert message.raw == raw  # the whole message, attachment included, is still kept


def test_a_message_without_a_message_id_is_known_by_its_content() -> None:
    raw = (CORPUS / "no_message_id_header.eml").read_bytes()
    changed = raw.replace(b"two weeks", b"three weeks")

    assert parse_email(raw).external_id == parse_email(raw).external_id
    assert parse_email(raw).external_id != parse_email(changed).external_id


def test_a_message_id_without_brackets_gets_them_and_an_overlong_one_is_not_used() -> None:
    bare = b"From: pat@example.net\r\nMessage-ID: 1234.5678@old-mailer.example\r\n\r\nHello\r\n"
    overlong = build_email("Hello", message_id=f"<{'x' * 600}@example.net>")

    assert parse_email(bare).external_id == "<1234.5678@old-mailer.example>"
    assert parse_email(overlong).external_id.endswith("@no-message-id>")


def test_a_newline_hidden_in_a_header_never_survives_into_the_message() -> None:
    message = parse_email((CORPUS / "header_injection_encoded_crlf.eml").read_bytes())

    for value in [message.subject, message.sender_name, *message.headers.values()]:
        assert "\r" not in (value or "") and "\n" not in (value or "")
    assert message.sender_address == "eve@example.org"


def test_plain_text_is_preferred_unless_it_is_a_stub_of_the_html() -> None:
    html = "<p>" + "The damp in the back bedroom is spreading along the wall. " * 10 + "</p>"
    full = parse_email(build_email("Plain words about the damp.", html="<p>HTML words about the damp.</p>"))
    stub = parse_email(build_email("Please view this email in a browser.", html=html))

    assert full.body == "Plain words about the damp."
    assert stub.body.startswith("The damp in the back bedroom is spreading")


def test_the_imap_arrival_time_wins_over_the_senders_clock() -> None:
    arrived = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    now = datetime(2026, 11, 2, 10, tzinfo=UTC)

    assert parse_email(build_email("Hi"), received_at=arrived, now=now).received_at == arrived
    assert parse_email(build_email("Hi", date=now + timedelta(days=30)), now=now).received_at is None


def test_the_senders_date_header_is_checked_against_the_clock_handed_in_not_the_machines() -> None:
    now = datetime(2026, 11, 2, 10, tzinfo=UTC)
    sent = now - timedelta(hours=3)

    assert parse_email(build_email("Hi", date=sent), now=now).received_at == sent
    # Ahead of the caller's clock by more than a day: the sender's clock is wrong, whatever the machine's says.
    assert parse_email(build_email("Hi", date=now + timedelta(days=2)), now=now).received_at is None
    # No clock handed in: the header is not believed; the pipeline stamps the message with its own clock.
    assert parse_email(build_email("Hi", date=sent)).received_at is None


def test_thread_keys_put_in_reply_to_first_then_the_newest_references() -> None:
    raw = build_email(
        "Reply",
        in_reply_to="<c@example.net>",
        references=["<a@example.net>", "<b@example.net>", "<c@example.net>"],
    )

    assert parse_email(raw).thread_keys == ["<c@example.net>", "<b@example.net>", "<a@example.net>"]


@pytest.mark.parametrize("seed", range(40))
def test_damaged_bytes_never_raise_and_are_always_kept(seed: int) -> None:
    rng = random.Random(seed)
    original = (CORPUS / rng.choice(CORPUS_FILES)).read_bytes()
    damaged = bytearray(original[: rng.randrange(1, len(original) + 1)])
    for _ in range(rng.randrange(0, 30)):
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)

    message = parse_email(bytes(damaged))

    assert message.raw == bytes(damaged)
    assert message.external_id and len(message.external_id) <= 512
    assert "\r" not in (message.subject or "") and "\n" not in (message.subject or "")


def test_bytes_that_are_not_an_email_are_kept_with_the_reason() -> None:
    message = parse_email(b"\x00\x01\x02 not an email at all")

    assert message.parse_error and "no email headers" in message.parse_error
    assert message.external_id.endswith("@no-message-id>")


def test_an_unreadable_message_keeps_what_can_be_read_without_a_parser() -> None:
    raw = b"From: Pat <pat@example.net>\r\nSubject: Help\r\nMessage-ID: <p1@example.net>\r\n\r\n\xff\xfe body"

    message = unreadable_message(raw, reason="the parser failed")

    assert (message.external_id, message.subject, message.sender_address) == (
        "<p1@example.net>",
        "Help",
        "pat@example.net",
    )
    assert message.parse_error == "the parser failed"
    assert message.raw == raw


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("It’s £5".encode("cp1252"), "iso-8859-1", "It’s £5"),  # Outlook's mislabel
        ("café".encode(), "us-ascii", "café"),  # UTF-8 under an ASCII label
        ("你好".encode("gbk"), "gb2312", "你好"),  # GBK characters under a GB2312 label
        (b"plain", "x-no-such-charset", "plain"),
        ("Привет".encode("koi8-r"), "KOI8-R", "Привет"),
    ],
)
def test_text_decodes_whatever_the_label_says(data: bytes, charset: str, text: str) -> None:
    assert decode_bytes(data, charset)[0] == text


def test_format_flowed_joins_soft_breaks_but_keeps_quotes_and_signatures_apart() -> None:
    flowed = "This line \ncontinues here.\n> quoted \n> more\n-- \nPat"

    assert unflow(flowed, delsp=False) == "This line continues here.\n> quoted more\n-- \nPat"
    assert unflow("split-\nword \nend", delsp=True) == "split-\nwordend"
