"""Finding 10 and the headers around personal data: HSTS when the public address is https;
`Cache-Control: no-store` on raw messages, attachments and API answers."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from channels.message import Attachment
from intake.app import create_app
from intake.pipeline import ingest
from intake.runtime import Runtime, use_runtime
from tests.conftest import make_settings
from tests.factories import email_message
from tests.security.conftest import item_json, staff_client


def test_hsts_is_sent_when_the_public_address_is_https(tmp_path: Path, database_url: str) -> None:
    runtime = Runtime.build(make_settings(tmp_path, database_url, public_base_url="https://intake.landlord.example"))
    with use_runtime(runtime), TestClient(create_app(runtime), base_url="https://intake.landlord.example") as client:
        for path in ("/contact", "/staff/login", "/healthz", "/docs"):
            assert client.get(path).headers["strict-transport-security"].startswith("max-age=31536000"), path
    runtime.database.dispose()


def test_no_hsts_on_a_plain_http_development_address(app_client: TestClient) -> None:
    assert "strict-transport-security" not in app_client.get("/contact").headers


def test_answers_with_personal_data_are_never_cached(api: TestClient, runtime: Runtime) -> None:
    posted = api.post("/api/v1/items", json=item_json())
    assert posted.headers["cache-control"] == "no-store"
    assert api.get(posted.json()["url"]).headers["cache-control"] == "no-store"
    item = ingest(runtime, email_message("Photo of the mould attached.", attachments=[
        Attachment(filename="mould.jpg", content_type="image/jpeg", size=3, sha256="0" * 64, content=b"jpg")]))
    with staff_client(runtime, "tina", "triage") as browser:
        page = browser.get(f"/staff/items/{item.item_id}")
        assert page.headers["cache-control"] == "no-store"
        raw = browser.get(f"/staff/items/{item.item_id}/raw")
        assert raw.status_code == 200 and raw.headers["cache-control"] == "no-store"
        attachment_path = next(
            line.split('"')[1] for line in page.text.splitlines() if "/attachments/" in line and 'href="' in line
        )
        attachment = browser.get(attachment_path)
        assert attachment.status_code == 200 and attachment.headers["cache-control"] == "no-store"


def test_api_docs_load_nothing_from_another_site(app_client: TestClient) -> None:
    page = app_client.get("/docs").text
    assert "cdn." not in page and "https://" not in page
    script = next(part.split('"')[0] for part in page.split('src="')[1:] if part.split('"')[0].endswith(".js"))
    assert app_client.get(script).status_code == 200


def test_the_openapi_schema_names_the_allowed_channels_and_has_no_dangling_references(app_client: TestClient) -> None:
    schema = app_client.get("/openapi.json").json()
    text = app_client.get("/openapi.json").text
    assert "#/$defs/" not in text
    items = schema["paths"]["/api/v1/items"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(items["properties"]["channel"]["enum"]) >= {"email", "sms", "web_form", "call_transcript"}
    assert "sms" in str(items["properties"]["ack_channel"])
    transcripts = schema["paths"]["/api/v1/transcripts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "speaker" in str(transcripts["properties"]["turns"])


