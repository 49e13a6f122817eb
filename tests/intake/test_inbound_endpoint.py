"""The one inbound endpoint shape: whatever an adapter or ingest refuses is kept with the reason."""

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


def test_an_item_without_an_external_id_is_refused_and_kept(client, runtime) -> None:  # type: ignore[no-untyped-def]
    payload = json.dumps({"channel": "web_form", "body": "my fence blew down"}).encode()
    response = client.post("/api/v1/items", content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "external_id is required" in response.json()["detail"]
    assert "kept as rejected" in response.json()["detail"]
    with runtime.database.session() as session:
        kept = session.scalars(select(RawMessage).where(RawMessage.item_id.is_(None))).one()
        assert kept.content == payload and kept.channel == "api"
        assert session.scalar(select(func.count()).select_from(Item)) == 0


def test_an_item_ingest_refuses_is_kept_with_the_reason(client, runtime) -> None:  # type: ignore[no-untyped-def]
    payload = json.dumps({"channel": "web_form", "external_id": "x" * 600, "body": "hello"}).encode()
    response = client.post("/api/v1/items", content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    with runtime.database.session() as session:
        kept = session.scalars(select(RawMessage).where(RawMessage.item_id.is_(None))).one()
        assert kept.content == payload
        assert kept.rejected_reason and "external_id is longer" in kept.rejected_reason
