"""Fixtures for the security tests: an app client, API tokens with chosen scopes, signed-in staff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from intake.app import create_app
from intake.runtime import Runtime
from intake.tokens import create_token
from tests.web.conftest import add_user, sign_in

READ_AND_WRITE = ("items:write", "items:read")


@pytest.fixture
def app_client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url="http://127.0.0.1") as client:
        yield client


def make_token(runtime: Runtime, name: str, scopes: tuple[str, ...] = ("items:write",)) -> str:
    with runtime.database.session() as session:
        return create_token(session, name, scopes=scopes)


@pytest.fixture
def api(runtime: Runtime, app_client: TestClient) -> TestClient:
    """The app client, sending a token that may post and read items."""
    app_client.headers["Authorization"] = f"Bearer {make_token(runtime, 'housing-system', READ_AND_WRITE)}"
    return app_client


def staff_client(runtime: Runtime, username: str, role: str) -> TestClient:
    """A separate browser, signed in as a new user."""
    client = TestClient(create_app(runtime), base_url="http://127.0.0.1")
    add_user(runtime, username, role)
    assert sign_in(client, username).status_code == 303
    return client


def item_json(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "channel": "email",
        "external_id": "msg-1",
        "subject": "Complaint about my repair",
        "body": "I want to make a formal complaint. The repair to my boiler was promised three weeks ago "
        "and nobody has come. I am very unhappy with the service.",
        "sender": "pat@example.com",
        "sender_name": "Pat Resident",
        "sender_phone": "+447911123123",
    }
    body.update(overrides)
    return body
