"""Finding 3: every probe that answered 500 now gets a clear 4xx, or is stored safely — on SQLite
and PostgreSQL alike."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.runtime import Runtime
from models import Item
from tests.security.conftest import item_json, staff_client
from tests.web.conftest import staff_post

HUGE_ID = 2**63  # one past the largest 64-bit integer


def _post_raw(api: TestClient, path: str, body: str) -> int:
    return api.post(path, content=body.encode(), headers={"Content-Type": "application/json"}).status_code


@pytest.mark.parametrize("path", ["/api/v1/items", "/api/v1/transcripts"])
def test_json_nested_beyond_reason_is_refused(api: TestClient, path: str) -> None:
    assert _post_raw(api, path, "[" * 100_000) == 422
    assert _post_raw(api, path, '{"a":' * 5_000 + "1" + "}" * 5_000) == 422


@pytest.mark.parametrize("path", ["/api/v1/items", "/api/v1/transcripts"])
def test_an_integer_of_thousands_of_digits_is_refused(api: TestClient, path: str) -> None:
    assert _post_raw(api, path, '{"call_id": "c1", "text": "hello", "x": ' + "9" * 4301 + "}") == 422


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_does_not_have_are_refused_in_metadata(api: TestClient, value: str) -> None:
    body = json.dumps(item_json(metadata={"score": 0})).replace('"score": 0', f'"score": {value}')
    assert _post_raw(api, "/api/v1/items", body) == 422


def test_a_nul_in_metadata_is_stored_safely(api: TestClient, runtime: Runtime) -> None:
    response = api.post("/api/v1/items", json=item_json(metadata={"note": "a\x00b", "k\x00": ["\x00"]}))
    assert response.status_code == 202, response.text
    with runtime.database.session() as session:
        item = session.get(Item, response.json()["id"])
        assert item is not None
        assert item.details["client_metadata"] == {"note": "a\ufffdb", "k\ufffd": ["\ufffd"]}


@pytest.mark.parametrize(
    "overrides",
    [
        {"sender_name": "P" * 201},
        {"sender_role": "r" * 33},
        {"sender": "x" * 321},
        {"received_at": "0001-01-01T00:00:00Z"},
        {"received_at": "9999-12-31T23:59:59Z"},
        {"external_id": "e" * 513},
        {"ack_channel": "pigeon"},
        {"metadata": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}},
        {"metadata": {"blob": "x" * 20_000}},
    ],
)
def test_values_that_cannot_be_stored_or_computed_with_are_refused(api: TestClient, overrides: dict) -> None:  # type: ignore[type-arg]
    response = api.post("/api/v1/items", json=item_json(**overrides))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"caller_name": "P" * 201},
        {"caller_email": "a@" + "b" * 320},
        {"started_at": "0001-01-01T00:00:00Z"},
        {"agent": "a\x00b"},
    ],
)
def test_transcripts_with_unstorable_values_are_refused_or_cleaned(api: TestClient, overrides: dict) -> None:  # type: ignore[type-arg]
    body = {"call_id": "call-1", "caller_number": "+447911123123", "text": "Caller: my boiler is broken", **overrides}
    assert api.post("/api/v1/transcripts", json=body).status_code in (202, 422)


def test_a_reference_beyond_64_bits_is_not_found(api: TestClient) -> None:
    response = api.get(f"/api/v1/items/CMP-2026-{HUGE_ID}")
    assert response.status_code == 404, response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/staff/items/{HUGE_ID}"),
        ("GET", f"/staff/items/{HUGE_ID}/raw"),
        ("GET", f"/staff/items/1/attachments/{HUGE_ID}"),
        ("GET", f"/staff/items/{HUGE_ID}/attachments/1"),
        ("POST", f"/staff/users/{HUGE_ID}"),
        ("POST", f"/staff/tokens/{HUGE_ID}/revoke"),
        ("GET", "/staff/reports?period=9999-12"),
        ("GET", "/staff/reports?period=9999"),
        ("GET", "/staff/reports?from=9999-12-01&to=9999-12-31"),
        ("GET", "/staff/reports/board?period=9999-12"),
    ],
)
def test_staff_urls_with_out_of_range_numbers_answer_4xx(runtime: Runtime, method: str, path: str) -> None:
    with staff_client(runtime, "ada", "admin") as client:
        if method == "POST":  # with the form's CSRF token, as a browser would send it
            response = staff_post(client, "/staff/users", path, {"change": "sign_out"})
        else:
            response = client.get(path, follow_redirects=False)
    assert response.status_code < 500, response.text
    assert response.status_code != 303 or "/staff/login" not in response.headers.get("location", "")


def test_an_accepted_item_with_an_early_date_keeps_its_page_working(api: TestClient, runtime: Runtime) -> None:
    response = api.post("/api/v1/items", json=item_json(received_at="1990-01-02T09:00:00Z"))
    assert response.status_code == 202, response.text
    with staff_client(runtime, "tina", "triage") as client:
        assert client.get(f"/staff/items/{response.json()['id']}").status_code == 200
    with runtime.database.session() as session:
        assert session.scalar(select(Item.reference).where(Item.id == response.json()["id"]))
