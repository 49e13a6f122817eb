"""The Reply templates page: managers edit the wording officers start from; every save is checked
and audited, and the reply form uses the saved version."""

# Fixtures are imported by name from the modules that define them (pytest finds them that way).
# ruff: noqa: F811

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.pipeline import ingest
from intake.runtime import Runtime
from models import AuditEntry, ReplyTemplate
from tests.factories import email_message
from tests.web.conftest import signed_in, staff_post
from tests.web.reply_support import reply_form


def _save(client: TestClient, **fields: str) -> object:
    data = {
        "key": "general_email",
        "name": "General reply",
        "channel": "email",
        "subject": "About {reference}",
        "body": "{greeting},\n\n[Your reply]\n\n{officer}, {landlord}",
        "active": "yes",
        "is_new": "no",
        **fields,
    }
    return staff_post(client, "/staff/reply-templates", "/staff/reply-templates", data)


def test_a_manager_edits_a_template_and_the_reply_form_uses_it(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "mo", "manager")
    listing = client.get("/staff/reply-templates")
    assert listing.status_code == 200 and "Complaint response (stage response)" in listing.text
    assert "as shipped" in listing.text
    assert client.get("/staff/reply-templates/general_email").status_code == 200

    response = _save(
        client, body="{greeting},\n\nThanks for getting in touch about {reference}. [Your reply]\n\n{officer}"
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    with runtime.database.session() as session:
        row = session.scalars(select(ReplyTemplate).where(ReplyTemplate.key == "general_email")).one()
        assert row.updated_by == "mo"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "reply_template_saved")).one()
        assert entry.actor == "mo" and entry.details["key"] == "general_email"

    result = ingest(
        runtime, email_message("Hi, when is the hallway cleaned at 4 Birch Court?", sender="pat@example.com")
    )
    form = reply_form(client, result.item_id, template="general_email")
    assert "Thanks for getting in touch about" in form["body"] and "{reference}" not in form["body"]


def test_a_new_template_can_be_added_and_a_bad_one_is_refused_with_the_reason(
    client: TestClient, runtime: Runtime
) -> None:
    signed_in(client, runtime, "mo", "manager")
    assert client.get("/staff/reply-templates/new").status_code == 200
    added = _save(
        client,
        key="gas_visit_sms",
        name="Gas safety visit",
        channel="sms",
        subject="",
        body="{landlord} ({reference}): your gas safety check is on [date]. Call {landlord_phone} to change it.",
        is_new="yes",
    )
    assert added.status_code == 303  # type: ignore[attr-defined]
    assert "Gas safety visit" in client.get("/staff/reply-templates").text

    again = _save(client, key="gas_visit_sms", name="Again", channel="sms", body="x", is_new="yes")
    assert again.status_code == 400 and "already exists" in again.text  # type: ignore[attr-defined]
    unknown = _save(client, body="Dear {tenant_name}")
    assert unknown.status_code == 400 and "{tenant_name} is not a placeholder" in unknown.text  # type: ignore[attr-defined]
    sneaky = _save(client, body="{greeting.__class__}")
    assert sneaky.status_code == 400  # type: ignore[attr-defined]
    broken = _save(client, body="Dear {greeting")
    assert broken.status_code == 400  # type: ignore[attr-defined]
    no_subject = _save(client, subject="")
    assert no_subject.status_code == 400 and "subject line" in no_subject.text  # type: ignore[attr-defined]
    too_long = _save(client, key="long_sms", channel="sms", subject="", is_new="yes", body="word " * 120)
    assert too_long.status_code == 400 and "text messages" in too_long.text  # type: ignore[attr-defined]
    bad_key = _save(client, key="Bad Key!", is_new="yes")
    assert bad_key.status_code == 400  # type: ignore[attr-defined]
    with runtime.database.session() as session:
        assert [row.key for row in session.scalars(select(ReplyTemplate))] == ["gas_visit_sms"]


def test_triage_officers_cannot_edit_templates(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "tina", "triage")
    assert client.get("/staff/reply-templates").status_code == 403
    assert _save(client).status_code == 403  # type: ignore[attr-defined]
