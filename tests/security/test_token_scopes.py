"""Finding 6: an API token reads items back only with the items:read scope; every use is recorded."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.runtime import Runtime
from models import ApiToken
from tests.security.conftest import item_json, make_token, staff_client
from tests.web.conftest import staff_post


def test_a_default_token_posts_items_but_cannot_read_them(app_client: TestClient, runtime: Runtime) -> None:
    headers = {"Authorization": f"Bearer {make_token(runtime, 'forms-portal')}"}
    posted = app_client.post("/api/v1/items", json=item_json(), headers=headers)
    assert posted.status_code == 202
    read = app_client.get(posted.json()["url"], headers=headers)
    assert read.status_code == 403
    assert "items:read" in read.json()["detail"]


def test_a_token_granted_items_read_reads_items(app_client: TestClient, runtime: Runtime) -> None:
    writer = {"Authorization": f"Bearer {make_token(runtime, 'forms-portal')}"}
    reader = {"Authorization": f"Bearer {make_token(runtime, 'housing-system', ('items:read',))}"}
    posted = app_client.post("/api/v1/items", json=item_json(), headers=writer)
    assert app_client.get(posted.json()["url"], headers=reader).status_code == 200
    assert app_client.post("/api/v1/items", json=item_json(external_id="x2"), headers=reader).status_code == 403


def test_using_a_token_records_when_it_was_last_used(app_client: TestClient, runtime: Runtime) -> None:
    token = make_token(runtime, "forms-portal")
    app_client.post("/api/v1/items", json=item_json(), headers={"Authorization": f"Bearer {token}"})
    with runtime.database.session() as session:
        assert session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "forms-portal")) is not None


def test_an_admin_grants_items_read_only_when_ticked(runtime: Runtime) -> None:
    with staff_client(runtime, "ada", "admin") as admin:
        staff_post(admin, "/staff/tokens", "/staff/tokens", {"name": "forms-portal"})
        staff_post(admin, "/staff/tokens", "/staff/tokens", {"name": "housing-system", "read_items": "yes"})
        page = admin.get("/staff/tokens").text
    with runtime.database.session() as session:
        scopes = {name: granted for name, granted in session.execute(select(ApiToken.name, ApiToken.scopes))}
    assert scopes == {"forms-portal": "items:write", "housing-system": "items:write items:read"}
    assert "items:write items:read" in page
