"""The JSON API: token auth, ingest, read back, and clear 4xx answers for bad input."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from intake.app import create_app
from intake.tokens import create_token
from models import Item, RawMessage


@pytest.fixture
def client(runtime):  # type: ignore[no-untyped-def]
    with runtime.database.session() as session:
        token = create_token(session, "housing-system")
    with TestClient(create_app(runtime)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


def _item(**overrides: object) -> dict[str, object]:
    body = {
        "channel": "web_form",
        "external_id": "sub-1",
        "body": "My kitchen extractor fan has stopped working, please can someone fix it.",
        "sender": "resident@example.com",
        "sender_name": "Pat Resident",
    }
    body.update(overrides)
    return body


def test_a_posted_item_is_stored_classified_routed_and_acknowledged(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/items", json=_item())
    assert response.status_code == 202, response.text
    reference = response.json()["reference"]

    item = client.get(f"/api/v1/items/{reference}").json()
    assert item["type"] == "service_request"
    assert item["queue"] == "service_requests"
    assert item["deadlines"] == []  # the Complaint Handling Code sets no deadline for a service request
    assert [(a["channel"], a["status"]) for a in item["acknowledgements"]] == [("email", "sent")]


def test_a_repeated_post_returns_the_same_item(client, runtime) -> None:  # type: ignore[no-untyped-def]
    first = client.post("/api/v1/items", json=_item())
    second = client.post("/api/v1/items", json=_item())
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    with runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 1


def test_requests_without_a_valid_token_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/items", json=_item(), headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert client.get("/api/v1/items/CMP-2026-000001", headers={"Authorization": ""}).status_code == 401


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"channel": "fax", "external_id": "x", "body": "hi"}).encode(), "unknown channel"),
        (json.dumps({"channel": "sms", "external_id": "x"}).encode(), "body"),
        (b'{"channel": "sms", "external_id": "x", "body": "\xff\xfe"}', "not valid UTF-8"),
    ],
)
def test_bad_payloads_get_a_clear_4xx_and_are_kept(client, runtime, payload: bytes, expected: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/items", content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert expected in response.json()["detail"]
    with runtime.database.session() as session:
        kept = session.scalars(select(RawMessage).where(RawMessage.item_id.is_(None))).one()
        assert kept.content == payload
        assert session.scalar(select(func.count()).select_from(Item)) == 0


def test_a_ten_megabyte_body_is_refused_without_storing_an_item(client, runtime) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/items", json=_item(body="x" * (10 * 1024 * 1024)))
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    with runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0


def test_an_unknown_reference_is_a_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/items/CMP-2026-999999").status_code == 404
    assert client.get("/api/v1/items/nonsense").status_code == 404


def test_health_reports_the_database(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_the_openapi_document_describes_the_item_api(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/items" in paths and "/api/v1/items/{reference}" in paths
