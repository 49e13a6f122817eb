"""Admin pages: users, API tokens (stored hashed, shown once), model versions."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.runtime import Runtime
from intake.tokens import hash_token
from models import ApiToken, AuditEntry, User
from tests.web.conftest import PASSWORD, sign_in, signed_in, staff_post


def test_an_admin_adds_a_user_who_can_then_sign_in(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "ada", "admin")
    response = staff_post(client, "/staff/users", "/staff/users",
                          {"username": "tina", "full_name": "Tina Triage", "role": "triage", "password": PASSWORD})
    assert response.status_code == 303
    assert "User tina added as triage" in client.get("/staff/users").text
    with TestClient(client.app, base_url="http://127.0.0.1") as other:
        assert sign_in(other, "tina").status_code == 303


def test_a_short_password_is_refused_on_the_page(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "ada", "admin")
    response = staff_post(client, "/staff/users", "/staff/users", {"username": "tina", "role": "triage",
                                                                  "password": "short"})
    assert response.status_code == 400 and "at least 12 characters" in response.text


def test_an_admin_changes_a_role_and_cannot_demote_themselves(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "ada", "admin")
    staff_post(client, "/staff/users", "/staff/users", {"username": "tina", "role": "triage", "password": PASSWORD})
    with runtime.database.session() as session:
        tina_id, ada_id = (session.scalars(select(User.id).where(User.username == name)).one() for name in ("tina", "ada"))
    assert staff_post(client, "/staff/users", f"/staff/users/{tina_id}", {"change": "role", "role": "manager"}).status_code == 303
    refused = staff_post(client, "/staff/users", f"/staff/users/{ada_id}", {"change": "role", "role": "triage"})
    assert refused.status_code == 400
    with runtime.database.session() as session:
        roles = dict(session.execute(select(User.username, User.role)).all())
    assert roles == {"ada": "admin", "tina": "manager"}


def test_a_token_is_shown_once_and_only_its_hash_is_stored(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "ada", "admin")
    made = staff_post(client, "/staff/tokens", "/staff/tokens", {"name": "housing-system"})
    token = re.search(r'data-testid="new-token">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    with runtime.database.session() as session:
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hash_token(token) and stored.created_by == "ada"
    assert token not in client.get("/staff/tokens").text
    api = client.post("/api/v1/items", headers={"Authorization": f"Bearer {token}"},
                      json={"channel": "web_form", "external_id": "t-1", "body": "My tap is leaking, please fix it."})
    assert api.status_code == 202
    staff_post(client, "/staff/tokens", f"/staff/tokens/{stored.id}/revoke", {})
    again = client.post("/api/v1/items", headers={"Authorization": f"Bearer {token}"},
                        json={"channel": "web_form", "external_id": "t-2", "body": "Hello"})
    assert again.status_code == 401


def test_model_versions_are_listed_promoted_and_rolled_back(
    client: TestClient, runtime: Runtime, tmp_path: Path, trained_model_dir: Path
) -> None:
    from classifier import ModelRegistry

    runtime.settings.model_dir = tmp_path / "models"
    shutil.copytree(trained_model_dir, runtime.settings.model_dir)
    registry = ModelRegistry(runtime.settings.model_dir)
    first = registry.current_version()
    assert first is not None
    second = "99991231T000000Z-copy"
    shutil.copytree(runtime.settings.model_dir / first, runtime.settings.model_dir / second)
    signed_in(client, runtime, "ada", "admin")

    page = client.get("/staff/models").text
    assert first in page and second in page and "in use" in page
    assert staff_post(client, "/staff/models", "/staff/models/promote", {"version": second}).status_code == 303
    assert registry.current_version() == second
    assert staff_post(client, "/staff/models", "/staff/models/rollback", {}).status_code == 303
    assert registry.current_version() == first
    with runtime.database.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ada")))
    assert "model_promoted" in actions and "model_rolled_back" in actions
