"""Fixtures for the contact form and the workspace: an app client, staff users, filled-in forms."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from intake import audit
from intake.app import create_app
from intake.runtime import Runtime
from intake.users import create_user

PASSWORD = "correct horse battery staple"
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')
SUBMISSION_PATTERN = re.compile(r'name="submission_token" value="([^"]+)"')


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), base_url="http://127.0.0.1") as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def add_user(runtime: Runtime, username: str, role: str, password: str = PASSWORD) -> None:
    with runtime.database.session() as session:
        create_user(session, username=username, password=password, role=role, actor="test")


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Response:
    page = client.get("/staff/login")
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": ""},
        follow_redirects=False,
    )


def signed_in(client: TestClient, runtime: Runtime, username: str, role: str) -> TestClient:
    add_user(runtime, username, role)
    response = sign_in(client, username)
    assert response.status_code == 303, response.text
    return client


def staff_post(client: TestClient, page_url: str, action_url: str, data: dict[str, Any]) -> Response:
    """Post a workspace form the way a browser would: with the CSRF token from the page it is on."""
    page = client.get(page_url)
    return client.post(action_url, data={**data, "csrf_token": csrf_of(page.text)}, follow_redirects=False)


def contact_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "full_name": "Pat Resident",
        "sender_role": "tenant",
        "resident_name": "",
        "reply_by": "email",
        "email": "pat@example.com",
        "mobile": "",
        "subject": "Leaking tap",
        "message": "My kitchen tap has been dripping since Saturday. Please can someone come and fix it? 14 Larch Close.",
        "website": "",
    }
    fields.update(overrides)
    return fields


def post_contact(
    client: TestClient,
    *,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    csrf_token: str | None = None,
    submission_token: str | None = None,
    headers: dict[str, str] | None = None,
    **overrides: str,
) -> Response:
    page = client.get("/contact")
    match = SUBMISSION_PATTERN.search(page.text)
    assert match
    data = {
        **contact_fields(**overrides),
        "csrf_token": csrf_of(page.text) if csrf_token is None else csrf_token,
        "submission_token": match.group(1) if submission_token is None else submission_token,
    }
    return client.post("/contact", data=data, files=files or [], headers=headers, follow_redirects=False)


def with_a_rejected_version(runtime: Runtime, tmp_path: Path, trained_model_dir: Path) -> tuple[str, str]:
    """A copy of the trained model as the version in use, and a second version the quality check
    rejected (as the worker records it): (in use, rejected). The runtime reads the copy."""
    from classifier import ModelRegistry

    runtime.settings.model_dir = tmp_path / "models"
    shutil.copytree(trained_model_dir, runtime.settings.model_dir)
    current = ModelRegistry(runtime.settings.model_dir).current_version()
    assert current is not None
    rejected = "99991231T000000Z-rejected"
    shutil.copytree(runtime.settings.model_dir / current, runtime.settings.model_dir / rejected)
    with runtime.database.session() as session:
        audit.record(session, actor="worker", action="model_evaluated", version=rejected, promoted=False,
                     reason="not promoted: worse than the version in use on held-out urgent safety recall",
                     comparisons=[])
    return current, rejected
