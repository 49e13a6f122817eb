"""IMAP intake end to end: a real Dovecot, the real imapclient, the real pipeline and classifier,
and acknowledgements arriving at a real SMTP server (aiosmtpd).

The promise under test: every message appended to the mailbox becomes exactly one item — whatever
breaks in between — and only people get an acknowledgement, one per case.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import func, select

from channels.email_imap import Mailbox, PollReport
from intake.email_mailboxes import mailboxes_from_settings, poll_all, poller_for, start_polling_threads
from intake.errors import ConfigurationError
from intake.runtime import Runtime
from intake.settings import ImapSettings, Settings
from models import Acknowledgement, Attachment, AuditEntry, ChannelCursor, Item, RawMessage
from tests.channels.conftest import (
    CORPUS_DIR,
    LANDLORD_ADDRESS,
    TestMailbox,
    imap_settings,
    runtime_with,
    smtp_settings,
    to_wire,
)
from tests.channels.email_builders import build_email, new_message_id
from tests.channels.mail_servers import CuttingProxy, DovecotServer, SmtpServer
from triage_rules.acknowledgement_wording import date_in_words

pytestmark = pytest.mark.dovecot

LEAK_COMPLAINT = (
    "This is the third time I have reported the leak under my bath. Your contractor promised to come back "
    "on Monday with the part and nobody turned up. Water is now coming through the kitchen ceiling."
)


# --- helpers -------------------------------------------------------------------------------


def _mailbox(runtime: Runtime) -> Mailbox:
    return mailboxes_from_settings(runtime.settings)[0]


def _poll(runtime: Runtime, mailbox: Mailbox | None = None, **options: object) -> PollReport:
    with poller_for(runtime, mailbox or _mailbox(runtime), **options) as poller:
        return poller.poll()


def _imap_only(imap: ImapSettings) -> Settings:
    return Settings(_env_file=None, imap=imap)  # type: ignore[call-arg]


def _items(runtime: Runtime) -> list[Item]:
    with runtime.database.session() as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


def _acknowledgements(runtime: Runtime) -> list[Acknowledgement]:
    with runtime.database.session() as session:
        return list(session.scalars(select(Acknowledgement).order_by(Acknowledgement.id)))


def _received(smtp_server: SmtpServer) -> list[EmailMessage]:
    return [BytesParser(policy=default).parsebytes(mail.content) for mail in smtp_server.received]  # type: ignore[misc]


def _cursor(runtime: Runtime) -> ChannelCursor:
    with runtime.database.session() as session:
        return session.scalars(select(ChannelCursor)).one()


def _complaint(sender: str = "Pat Resident <pat.resident@example.net>", **extra: object) -> bytes:
    return build_email(LEAK_COMPLAINT, sender=sender, subject="Leak again", **extra)  # type: ignore[arg-type]


def _padded(number: int) -> bytes:
    """A distinct request from a distinct sender, about 6 KB, so batches have a known size."""
    padding = "\n".join(f"Line {line} of the notes about the communal area." for line in range(120))
    return build_email(
        f"Please can someone replace the broken light in stairwell {number}.\n\n{padding}",
        sender=f"Resident {number} <resident{number}@example.net>",
        subject=f"Stairwell light {number}",
    )


def _assert_each_message_once(runtime: Runtime, raws: list[bytes]) -> None:
    """Every appended message is stored, and stored once: the raw bytes are the proof."""
    with runtime.database.session() as session:
        stored = sorted(session.scalars(select(RawMessage.content)))
    assert sorted(to_wire(raw) for raw in raws) == stored


# --- the whole journey ---------------------------------------------------------------------


def test_an_appended_email_becomes_a_triaged_item_and_its_sender_gets_one_acknowledgement(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    message_id = new_message_id()
    raw = _complaint(message_id=message_id)
    mailbox.append(raw)

    report = _poll(email_runtime)

    assert (report.fetched, report.created, report.duplicates) == (1, 1, 0)
    [item] = _items(email_runtime)
    assert (item.channel, item.external_id, item.status) == ("email", message_id, "processed")
    assert item.sender_address == "pat.resident@example.net" and item.subject == "Leak again"
    assert item.type == "complaint" and "delay" in item.categories
    assert item.queue == "complaints"
    assert item.mailbox_hint == "complaints"
    assert item.details["imap"]["uid"] == mailbox.uids()[0]
    _assert_each_message_once(email_runtime, [raw])

    [acknowledgement] = _acknowledgements(email_runtime)
    [sent] = _received(smtp_server)
    assert acknowledgement.status == "sent" and acknowledgement.provider_id == sent["Message-ID"]
    assert sent["To"].addresses[0].addr_spec == "pat.resident@example.net"
    assert item.reference and item.reference in sent["Subject"]
    text = sent.get_body(("plain",)).get_content()
    assert item.reference in text
    with email_runtime.database.session() as session:
        due = [
            d.due_at
            for d in session.get(Item, item.id).deadlines
            if d.kind == "respond" and d.superseded_at is None
        ]
    assert due and date_in_words(min(due)) in text  # the policy's date, in words
    assert sent["In-Reply-To"] == message_id and sent["Auto-Submitted"] == "auto-replied"
    assert mailbox.seen() == {mailbox.uids()[0]: True}  # marked only after it was committed


def test_a_reply_in_the_thread_joins_its_case_and_is_not_acknowledged_again(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    original_id = new_message_id()
    mailbox.append(_complaint(message_id=original_id))
    _poll(email_runtime)
    [first] = _received(smtp_server)
    root = _items(email_runtime)[0]

    mailbox.append(
        build_email(
            "The ceiling has now come down in the kitchen.\n\n"
            f"On Mon, 2 Nov 2026 at 09:15, Riverside Homes <{LANDLORD_ADDRESS}> wrote:\n"
            "> Thank you for telling us about this, and we are sorry you have had reason to complain.\n"
            f"> Your reference is {root.reference}.\n",
            sender="Pat Resident <pat.resident@example.net>",
            subject=f"Re: {first['Subject']}",
            in_reply_to=first["Message-ID"],
            references=[original_id, first["Message-ID"]],
        )
    )
    report = _poll(email_runtime)

    assert report.created == 1
    root, reply = _items(email_runtime)
    assert reply.case_id == root.id and root.case_id is None
    assert reply.thread_keys[0] == first["Message-ID"]
    assert "ceiling has now come down" in (reply.prepared_text or "")
    assert "sorry you have had reason to complain" not in (reply.prepared_text or "")  # quote stripped
    assert len(smtp_server.received) == 1  # one acknowledgement per case, not per message
    assert "one acknowledgement per case" in (reply.suppress_acknowledgement_reason or "")


def test_a_quoted_reference_links_a_party_to_the_case_but_never_a_stranger(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    mailbox.append(_complaint())
    _poll(email_runtime)
    root = _items(email_runtime)[0]

    mailbox.append(
        build_email(
            "Any news on this?", sender="pat.resident@example.net", subject=f"[{root.reference}] chasing"
        )
    )
    mailbox.append(
        build_email(
            "My leak is worse.",
            sender="Someone Else <someone.else@example.org>",
            subject=f"Re: [{root.reference}]",
        )
    )
    _poll(email_runtime)

    _, chaser, stranger = _items(email_runtime)
    assert chaser.case_id == root.id
    assert stranger.case_id is None and stranger.queue == "triage_review"
    assert root.reference in (stranger.review_reason or "") and "not a party" in (
        stranger.review_reason or ""
    )
    recipients = [mail["To"].addresses[0].addr_spec for mail in _received(smtp_server)]
    assert recipients == ["pat.resident@example.net", "someone.else@example.org"]


# --- automatic mail ------------------------------------------------------------------------


def test_an_out_of_office_reply_is_stored_with_its_case_and_never_answered(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    mailbox.append(_complaint())
    _poll(email_runtime)
    [acknowledgement] = _received(smtp_server)

    mailbox.append(
        build_email(
            "I am out of the office until Monday with no access to email.",
            sender="Pat Resident <pat.resident@example.net>",
            subject=f"Automatic reply: {acknowledgement['Subject']}",
            in_reply_to=acknowledgement["Message-ID"],
            headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
        )
    )
    report = _poll(email_runtime)

    assert report.created == 1
    root, out_of_office = _items(email_runtime)
    assert out_of_office.details["automatic"] == "out_of_office"
    assert out_of_office.case_id == root.id
    assert "automatic" in (out_of_office.suppress_acknowledgement_reason or "")
    assert len(smtp_server.received) == 1


def test_a_bounce_marks_the_acknowledgement_it_bounced_and_is_not_triaged(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    complaint = _complaint(sender="Old Address <old.address@example-isp.co.uk>")
    mailbox.append(complaint)
    _poll(email_runtime)
    [acknowledgement] = _received(smtp_server)
    bounce = (
        (CORPUS_DIR / "postfix_bounce_returned_to_sender.eml")
        .read_bytes()
        .replace(b"<ack.20261125.000153@riverside-homes.example>", acknowledgement["Message-ID"].encode())
    )

    mailbox.append(bounce)
    _poll(email_runtime)

    root, bounce_item = _items(email_runtime)
    [bounced] = _acknowledgements(email_runtime)
    assert bounced.status == "bounced"
    assert bounce_item.details["bounce_of"] == acknowledgement["Message-ID"]
    assert bounce_item.case_id == root.id and bounce_item.case_status == "closed"
    assert bounce_item.type is None and bounce_item.suppress_acknowledgement_reason
    assert len(smtp_server.received) == 1
    _assert_each_message_once(email_runtime, [complaint, bounce])


def test_list_mail_no_reply_senders_and_our_own_addresses_get_no_acknowledgement(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    raws = [
        (CORPUS_DIR / "mailing_list_digest.eml").read_bytes(),
        (CORPUS_DIR / "web_form_notification_noreply.eml").read_bytes(),
        (CORPUS_DIR / "outlook_staff_forward_own_domain.eml").read_bytes(),
        build_email("Test of the intake mailbox", sender=f"Riverside Homes <{LANDLORD_ADDRESS}>"),
    ]
    for raw in raws:
        mailbox.append(raw)

    assert _poll(email_runtime).created == 4

    items = _items(email_runtime)
    assert all(item.status == "processed" and item.suppress_acknowledgement_reason for item in items)
    assert "own addresses" in (items[2].suppress_acknowledgement_reason or "")
    assert smtp_server.received == []
    _assert_each_message_once(email_runtime, raws)


def test_acknowledgements_to_one_sender_stop_at_the_daily_limit(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    dovecot: DovecotServer,
    mailbox: TestMailbox,
    smtp_server: SmtpServer,
) -> None:
    with runtime_with(
        tmp_path,
        database_url,
        trained_model_dir,
        imap=imap_settings(dovecot, mailbox),
        smtp=smtp_settings(smtp_server),
        max_acknowledgements_per_sender_per_day=2,
    ) as runtime:
        for number in range(3):
            mailbox.append(
                build_email(
                    f"Separate request number {number}: please fix the gate.", sender="busy@example.net"
                )
            )
        _poll(runtime)

        statuses = [acknowledgement.status for acknowledgement in _acknowledgements(runtime)]
    assert statuses == ["sent", "sent", "suppressed"]
    assert len(smtp_server.received) == 2


# --- faults: nothing lost, nothing twice ---------------------------------------------------


def test_the_same_message_delivered_twice_makes_one_item(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    raw = _complaint()
    mailbox.append(raw)
    mailbox.append(raw)

    report = _poll(email_runtime)

    assert (report.fetched, report.created, report.duplicates) == (2, 1, 1)
    assert len(_items(email_runtime)) == 1 and len(smtp_server.received) == 1
    assert list(mailbox.seen().values()) == [True, True]


def test_a_connection_dropped_mid_fetch_loses_and_duplicates_nothing(
    email_runtime: Runtime, mailbox: TestMailbox, dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    raws = [_padded(number) for number in range(12)]
    for raw in raws:
        mailbox.append(raw)
    batch = 5
    batch_bytes = sum(len(to_wire(raw)) for raw in raws[:batch])
    proxy = CuttingProxy(dovecot.port, trigger=b"BODY.PEEK[]", after_bytes=batch_bytes + batch_bytes // 2)
    through_proxy = Mailbox(**{**_mailbox(email_runtime).__dict__, "port": proxy.port})
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the socket error, the poll must stop
            _poll(email_runtime, through_proxy, batch_size=batch)
    finally:
        proxy.close()

    assert proxy.cut_count == 1
    assert len(_items(email_runtime)) == batch  # the first batch was committed and marked
    assert _cursor(email_runtime).position == mailbox.uids()[batch - 1]
    assert sum(mailbox.seen().values()) == batch

    report = _poll(email_runtime, batch_size=batch)

    assert (report.created, report.duplicates) == (len(raws) - batch, 0)
    _assert_each_message_once(email_runtime, raws)
    assert all(mailbox.seen().values())
    assert len(smtp_server.received) == len(raws)


def test_a_crash_after_commit_but_before_marking_fetches_again_and_keeps_one_copy(
    email_runtime: Runtime, mailbox: TestMailbox, dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    raws = [_padded(number) for number in range(7)]
    for raw in raws:
        mailbox.append(raw)
    proxy = CuttingProxy(dovecot.port, trigger=b"STORE")  # the \Seen flags never reach the server
    through_proxy = Mailbox(**{**_mailbox(email_runtime).__dict__, "port": proxy.port})
    try:
        with pytest.raises(Exception):  # noqa: B017
            _poll(email_runtime, through_proxy, batch_size=5)
    finally:
        proxy.close()

    assert len(_items(email_runtime)) == 5  # committed…
    assert not any(mailbox.seen().values())  # …but not marked, and the cursor did not move
    assert _cursor(email_runtime).position == 0

    report = _poll(email_runtime, batch_size=5)

    assert (report.fetched, report.created, report.duplicates) == (7, 2, 5)
    _assert_each_message_once(email_runtime, raws)
    assert all(mailbox.seen().values())
    assert len(smtp_server.received) == 7  # the refetched five were not acknowledged again


def test_a_uidvalidity_change_reads_the_mailbox_again_without_duplicates(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    raws = [_padded(number) for number in range(3)]
    for raw in raws:
        mailbox.append(raw)
    _poll(email_runtime)
    before = mailbox.uidvalidity()

    mailbox.recreate()  # restored from a backup: same messages, new UIDs, new UIDVALIDITY
    newcomer = _padded(99)
    for raw in [*raws, newcomer]:
        mailbox.append(raw)
    report = _poll(email_runtime)

    assert mailbox.uidvalidity() != before
    assert report.uidvalidity_changed and (report.created, report.duplicates) == (1, 3)
    _assert_each_message_once(email_runtime, [*raws, newcomer])
    cursor = _cursor(email_runtime)
    assert (cursor.validity, cursor.position) == (mailbox.uidvalidity(), max(mailbox.uids()))
    with email_runtime.database.session() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "imap_uidvalidity_changed")
        ).one()
    assert audit.details["before"] == before
    assert len(smtp_server.received) == 4


@pytest.mark.slow
def test_a_25_mb_attachment_is_kept_as_metadata_and_the_message_as_received(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    photo = os.urandom(25 * 1024 * 1024)
    raw = build_email(
        "Please see the video of the water pouring through the ceiling.",
        sender="Pat Resident <pat.resident@example.net>",
        attachments=[("ceiling.mp4", "video/mp4", photo)],
    )
    mailbox.append(raw)

    assert _poll(email_runtime).created == 1

    [item] = _items(email_runtime)
    with email_runtime.database.session() as session:
        attachment = session.scalars(select(Attachment).where(Attachment.item_id == item.id)).one()
        raw_size = session.scalar(select(func.length(RawMessage.content)))
    assert (attachment.filename, attachment.size, attachment.content) == ("ceiling.mp4", len(photo), None)
    assert attachment.sha256 == hashlib.sha256(photo).hexdigest()
    assert item.details["attachments_over_limit"] == ["ceiling.mp4"]
    assert raw_size == len(to_wire(raw))
    assert len(smtp_server.received) == 1


def test_a_message_with_broken_mime_is_stored_and_sent_to_review_with_the_reason(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    broken = (CORPUS_DIR / "broken_mime_wrong_boundary.eml").read_bytes()
    not_email = b"this is not an email at all, just a line of text\r\n"
    mailbox.append(broken)
    mailbox.append(not_email)

    report = _poll(email_runtime)

    assert (report.created, report.unreadable) == (2, 2)
    mime, garbage = _items(email_runtime)
    assert mime.queue == "triage_review" and mime.status == "processed"
    assert (mime.review_reason or "").startswith("could not be read: broken MIME structure")
    assert "photo of the gutter" in mime.body
    assert garbage.queue == "triage_review" and "no email headers" in (garbage.parse_error or "")
    _assert_each_message_once(email_runtime, [broken, not_email])
    [acknowledgement] = _received(smtp_server)  # the broken one still has a sender to thank
    assert acknowledgement["To"].addresses[0].addr_spec == "alan.price@example.com"
    assert mime.reference and mime.reference in acknowledgement["Subject"]


# --- configuration: move, several mailboxes, IDLE, the loop --------------------------------


def test_move_mode_moves_each_message_after_it_is_committed(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    dovecot: DovecotServer,
    mailbox: TestMailbox,
    smtp_server: SmtpServer,
) -> None:
    processed = f"{mailbox.folder}-done"
    with runtime_with(
        tmp_path,
        database_url,
        trained_model_dir,
        imap=imap_settings(dovecot, mailbox, mark_mode="move", processed_folder=processed),
        smtp=smtp_settings(smtp_server),
    ) as runtime:
        raws = [_padded(number) for number in range(3)]
        for raw in raws:
            mailbox.append(raw)
        assert _poll(runtime).created == 3
        _assert_each_message_once(runtime, raws)

    assert mailbox.uids() == []
    assert len(mailbox.uids(processed)) == 3


def test_several_mailboxes_are_read_each_with_its_own_hint_and_cursor(
    tmp_path: Path,
    database_url: str,
    trained_model_dir: Path,
    dovecot: DovecotServer,
    mailbox: TestMailbox,
    repairs_mailbox: TestMailbox,
    smtp_server: SmtpServer,
) -> None:
    extra = [
        {"folder": repairs_mailbox.folder, "user": "repairs", "password": dovecot.password, "hint": "repairs"}
    ]
    with runtime_with(
        tmp_path,
        database_url,
        trained_model_dir,
        imap=imap_settings(dovecot, mailbox, extra_mailboxes=extra),
        smtp=smtp_settings(smtp_server),
    ) as runtime:
        mailbox.append(_complaint())
        repairs_mailbox.append(
            build_email("My front door lock is broken, please fix it.", sender="grace@example.net")
        )
        reports = poll_all(runtime)

        assert [(r.mailbox.split("/", 1)[1], r.created, r.error) for r in reports] == [
            (f"intake/{mailbox.folder}", 1, None),
            (f"repairs/{repairs_mailbox.folder}", 1, None),
        ]
        assert [item.mailbox_hint for item in _items(runtime)] == ["complaints", "repairs"]
        with runtime.database.session() as session:
            assert session.scalar(select(func.count()).select_from(ChannelCursor)) == 2


def test_idle_wakes_the_poller_when_mail_arrives(email_runtime: Runtime, mailbox: TestMailbox) -> None:
    with poller_for(email_runtime, _mailbox(email_runtime)) as poller:
        poller.poll()
        threading.Timer(1.0, mailbox.append, args=[_padded(1)]).start()
        started = time.monotonic()
        poller.wait_for_mail(timeout=60)
        waited = time.monotonic() - started
        assert poller.poll().created == 1
    assert 0.5 < waited < 20


def test_the_forever_loop_ingests_new_mail_and_stops_when_asked(
    email_runtime: Runtime, mailbox: TestMailbox
) -> None:
    stop = threading.Event()
    threads = start_polling_threads(email_runtime, interval=2, stop=stop)
    try:
        mailbox.append(_padded(1))
        deadline = time.monotonic() + 240
        while not _items(email_runtime) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=240)  # a ceiling: the loop ends at once when `stop` is set
    assert len(_items(email_runtime)) == 1
    assert not any(thread.is_alive() for thread in threads)


# --- the corpus, through the real server ---------------------------------------------------


def test_every_corpus_message_goes_through_dovecot_into_one_item(
    email_runtime: Runtime, mailbox: TestMailbox, smtp_server: SmtpServer
) -> None:
    files = sorted(CORPUS_DIR.glob("*.eml"))
    raws = [path.read_bytes() for path in files]
    for raw in raws:
        mailbox.append(raw)

    report = _poll(email_runtime)

    assert (report.fetched, report.created, report.duplicates) == (len(raws), len(raws), 0)
    _assert_each_message_once(email_runtime, raws)
    items = _items(email_runtime)
    assert all(item.status == "processed" for item in items)
    # Bounces of a known message are filed, not triaged; everything else has a queue.
    assert [item.subject for item in items if item.queue is None] == [
        item.subject for item in items if item.details.get("bounce_of")
    ]
    acknowledgements = _acknowledgements(email_runtime)
    sent = [a for a in acknowledgements if a.status == "sent"]
    assert len(sent) == len(smtp_server.received) > 0
    by_item = {item.id: item for item in items}
    for acknowledgement in sent:  # only people, one per new case
        item = by_item[acknowledgement.item_id]
        assert "automatic" not in item.details and item.case_id is None
        assert not item.sender_address.endswith("@riverside-homes.example")
    assert len({a.item_id for a in acknowledgements}) == len(acknowledgements)
    machines = {item.sender_address for item in items if "automatic" in item.details}
    assert not machines & {mail.recipients[0] for mail in smtp_server.received}


# --- settings ------------------------------------------------------------------------------


def test_each_configured_mailbox_has_its_own_cursor_key_and_hint() -> None:
    settings = ImapSettings(
        host="imap.landlord.example",
        user="complaints@landlord.example",
        password="secret",  # type: ignore[arg-type]
        hint="complaints",
        extra_mailboxes=[
            {"folder": "INBOX", "user": "repairs@landlord.example", "password": "other", "hint": "repairs"},  # type: ignore[list-item]
            {"folder": "Councillors", "hint": "formal"},  # type: ignore[list-item]
        ],
    )

    mailboxes = mailboxes_from_settings(_imap_only(settings))

    assert [(m.key, m.hint, m.password) for m in mailboxes] == [
        ("imap.landlord.example/complaints@landlord.example/INBOX", "complaints", "secret"),
        ("imap.landlord.example/repairs@landlord.example/INBOX", "repairs", "other"),
        ("imap.landlord.example/complaints@landlord.example/Councillors", "formal", "secret"),
    ]
    assert "secret" not in repr(mailboxes[0])


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"host": "imap.example", "user": "a@example"}, "INTAKE_IMAP_PASSWORD"),
        ({"host": "imap.example", "user": "a@example", "password": "p", "mark_mode": "delete"}, "MARK_MODE"),
        (
            {
                "host": "imap.example",
                "user": "a@example",
                "password": "p",
                "extra_mailboxes": [{"folder": "INBOX"}],
            },
            "twice",
        ),
        (
            {
                "host": "imap.example",
                "user": "a@example",
                "password": "p",
                "extra_mailboxes": [{"user": "b@example"}],
            },
            "no password",
        ),
    ],
)
def test_incomplete_imap_settings_fail_loudly(values: dict[str, object], complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        mailboxes_from_settings(_imap_only(ImapSettings(**values)))  # type: ignore[arg-type]


def test_no_imap_host_means_no_mailboxes() -> None:
    assert mailboxes_from_settings(_imap_only(ImapSettings())) == []
