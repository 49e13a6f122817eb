"""The public contact form: validation, idempotency, attachments, and every kind of bad input refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from intake.runtime import Runtime
from models import Acknowledgement, Attachment, AuditEntry, Item, RawMessage
from tests.web.conftest import contact_fields, post_contact

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _count(runtime: Runtime, model: type) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _actions(runtime: Runtime) -> list[str]:
    with runtime.database.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _reference(page: str) -> str:
    match = re.search(r'data-testid="reference">([^<]+)<', page)
    assert match, page
    return match.group(1)


def test_a_valid_form_gives_a_reference_and_an_acknowledgement_by_the_chosen_channel(
    client: TestClient, runtime: Runtime
) -> None:
    response = post_contact(client, reply_by="sms", email="", mobile="07911 123456")
    assert response.status_code == 303
    confirmation = client.get(response.headers["location"])
    reference = _reference(confirmation.text)
    assert "sent a text message" in confirmation.text
    with runtime.database.session() as session:
        item = session.scalars(select(Item)).one()
        assert (item.channel, item.reference, item.sender_address) == ("web_form", reference, "+447911123456")
        assert item.details["form"]["sender_role"] == "tenant"
        acknowledgement = session.scalars(select(Acknowledgement)).one()
        assert (acknowledgement.channel, acknowledgement.recipient) == ("sms", "+447911123456")
        raw = session.scalars(select(RawMessage)).one()
        assert b"Leaking tap" in raw.content


def test_a_double_click_makes_one_item(client: TestClient, runtime: Runtime) -> None:
    page = client.get("/contact").text
    token = re.search(r'name="submission_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    first = post_contact(client, submission_token=token)
    second = post_contact(client, submission_token=token)
    assert first.headers["location"] == second.headers["location"]
    assert _count(runtime, Item) == 1


def test_missing_answers_are_shown_next_to_each_field_and_in_the_summary(
    client: TestClient, runtime: Runtime
) -> None:
    response = post_contact(client, full_name="", sender_role="", reply_by="", email="", subject="", message="")
    assert response.status_code == 400
    summary = re.search(r'<ul class="error-summary__list">(.*?)</ul>', response.text, re.S).group(1)  # type: ignore[union-attr]
    assert re.findall(r'href="#(\w+)"', summary) == ["full_name", "sender_role", "reply_by", "subject", "message"]
    for field in ("full_name", "sender_role", "reply_by", "subject", "message"):
        assert f'id="{field}-error"' in response.text
    assert response.text.startswith("<!DOCTYPE html>") and "<title>Error: " in response.text
    assert _count(runtime, Item) == 0


def test_the_reply_channel_needs_its_address(client: TestClient, runtime: Runtime) -> None:
    by_email = post_contact(client, reply_by="email", email="")
    assert "Enter your email address, or choose a text message reply" in by_email.text
    by_text = post_contact(client, reply_by="sms", mobile="")
    assert "Enter your mobile number, or choose an email reply" in by_text.text
    landline = post_contact(client, reply_by="sms", mobile="020 7946 0000")
    assert "can receive text messages" in landline.text
    bad_email = post_contact(client, email="pat@")
    assert "Enter an email address in the correct format" in bad_email.text
    assert _count(runtime, Item) == 0


def test_someone_acting_for_a_resident_names_them(client: TestClient, runtime: Runtime) -> None:
    missing = post_contact(client, sender_role="acting_for", resident_name="")
    assert "Enter the name of the person you are contacting us about" in missing.text
    accepted = post_contact(client, sender_role="elected_office", resident_name="Arjun Patel")
    assert accepted.status_code == 303
    with runtime.database.session() as session:
        item = session.scalars(select(Item)).one()
        assert item.details["form"]["resident_name"] == "Arjun Patel"
        assert item.contact.role == "designated_person"


def test_the_typed_answers_are_kept_when_the_form_comes_back_with_errors(client: TestClient) -> None:
    response = post_contact(client, subject="")
    assert 'value="Pat Resident"' in response.text
    assert "My kitchen tap has been dripping" in response.text


def test_allowed_attachments_are_stored(client: TestClient, runtime: Runtime) -> None:
    files = [("attachments", ("photo.png", PNG, "image/png")), ("attachments", ("letter.pdf", PDF, "application/pdf"))]
    assert post_contact(client, files=files).status_code == 303
    with runtime.database.session() as session:
        stored = sorted((a.filename, a.content_type, a.size) for a in session.scalars(select(Attachment)))
    assert stored == [("letter.pdf", "application/pdf", len(PDF)), ("photo.png", "image/png", len(PNG))]


def test_attachments_of_the_wrong_type_or_disguised_are_refused(client: TestClient, runtime: Runtime) -> None:
    program = post_contact(client, files=[("attachments", ("setup.exe", b"MZ\x90\x00", "application/octet-stream"))])
    assert program.status_code == 400
    assert "setup.exe must be a PDF, JPG, PNG, HEIC, DOC or DOCX" in program.text
    disguised = post_contact(client, files=[("attachments", ("invoice.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))])
    assert "invoice.pdf is not a real PDF file" in disguised.text
    assert _count(runtime, Item) == 0 and _count(runtime, Attachment) == 0


def test_an_attachment_over_the_file_limit_is_refused_with_a_message(client: TestClient, runtime: Runtime) -> None:
    runtime.settings.web.max_attachment_bytes = 1024
    big = PDF + b"0" * 2048
    response = post_contact(client, files=[("attachments", ("big.pdf", big, "application/pdf"))])
    assert response.status_code == 400
    assert "big.pdf must be smaller than" in response.text
    assert _count(runtime, Item) == 0


def test_an_oversized_post_is_refused_unread_and_logged(client: TestClient, runtime: Runtime, caplog) -> None:  # type: ignore[no-untyped-def]
    runtime.settings.web.max_form_bytes = 50_000
    response = post_contact(client, files=[("attachments", ("huge.pdf", PDF + b"0" * 100_000, "application/pdf"))])
    assert response.status_code == 413
    assert "Your files are too large" in response.text
    assert _count(runtime, Item) == 0
    assert "contact_form_refused" in _actions(runtime)
    assert "form too large" in caplog.text


def test_a_forged_csrf_token_is_refused_and_logged(client: TestClient, runtime: Runtime, caplog) -> None:  # type: ignore[no-untyped-def]
    forged = post_contact(client, csrf_token="0" * 64)
    assert forged.status_code == 403
    assert "This form has expired" in forged.text
    missing = client.post("/contact", data=contact_fields(), follow_redirects=False)
    assert missing.status_code == 403
    assert _count(runtime, Item) == 0
    assert _actions(runtime).count("request_refused") == 2
    assert "csrf token missing or wrong" in caplog.text


def test_a_token_from_another_browser_is_refused(client: TestClient, runtime: Runtime) -> None:
    token_from_elsewhere = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/contact").text).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    assert post_contact(client, csrf_token=token_from_elsewhere).status_code == 403
    assert _count(runtime, Item) == 0


def test_the_honeypot_refuses_bots_and_stores_nothing(client: TestClient, runtime: Runtime) -> None:
    response = post_contact(client, website="http://spam.example")
    assert response.status_code == 400
    assert _count(runtime, Item) == 0
    with runtime.database.session() as session:
        refusal = session.scalars(select(AuditEntry).where(AuditEntry.action == "contact_form_refused")).one()
    assert refusal.details["reason"] == "honeypot field filled in"


def test_a_forged_submission_token_is_refused(client: TestClient, runtime: Runtime) -> None:
    response = post_contact(client, submission_token="'; DROP TABLE items; --")
    assert response.status_code == 400
    assert _count(runtime, Item) == 0


def test_a_hundred_posts_a_minute_from_one_address_are_refused_after_the_limit(
    client: TestClient, runtime: Runtime
) -> None:
    limit = runtime.settings.web.submissions_per_minute
    statuses = [post_contact(client).status_code for _ in range(100)]
    assert statuses[:limit] == [303] * limit
    assert set(statuses[limit:]) == {429}
    assert _count(runtime, Item) == limit
    actions = _actions(runtime)
    assert actions.count("contact_form_rate_limited") == 100 - limit
    # Another address is not affected.
    with TestClient(client.app, base_url="http://127.0.0.1", client=("203.0.113.9", 5000)) as other:
        assert post_contact(other).status_code == 303


def test_the_audit_log_keeps_no_client_address(client: TestClient, runtime: Runtime) -> None:
    post_contact(client, full_name="")
    with runtime.database.session() as session:
        actors = set(session.scalars(select(AuditEntry.actor)))
    assert all("testclient" not in actor and "127.0.0.1" not in actor for actor in actors)
    assert any(actor.startswith("web:") for actor in actors)


def test_sql_looking_text_is_stored_as_text(client: TestClient, runtime: Runtime) -> None:
    sql = "Robert'); DROP TABLE items;-- OR 1=1"
    assert post_contact(client, full_name=sql, subject=sql, message=sql + " my tap leaks").status_code == 303
    with runtime.database.session() as session:
        item = session.scalars(select(Item)).one()
        assert (item.sender_name, item.subject) == (sql, sql)


def test_the_form_works_without_javascript_and_labels_every_field(client: TestClient) -> None:
    page = client.get("/contact").text
    for field in ("full_name", "sender_role", "resident_name", "reply_by", "email", "mobile", "subject", "message", "attachments"):
        assert f'for="{field}"' in page
    assert 'href="#main-content"' in page and 'id="main-content"' in page
    assert 'enctype="multipart/form-data"' in page and 'method="post"' in page


def test_pages_send_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/contact")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_an_unknown_confirmation_link_says_so(client: TestClient) -> None:
    response = client.get("/contact/received?s=abcdefghijklmnopqrstuvwxyz")
    assert response.status_code == 404
    assert "We cannot find that form" in response.text
