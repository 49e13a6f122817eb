"""Sign-in throttling: per client address and per account, in the same words for every refusal, so
nobody learns which usernames exist; behind a trusted proxy each resident is their own address."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from intake.app import create_app
from intake.runtime import Runtime, use_runtime
from intake.users import MAX_FAILED_SIGN_INS
from tests.conftest import make_settings
from tests.web.conftest import add_user, csrf_of, post_contact


def _attempt(client: TestClient, username: str, password: str = "wrong password here") -> tuple[int, str]:
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": ""},
        follow_redirects=False,
    )
    return response.status_code, response.text.split('class="error-message"')[-1].split("</p>")[0]


def test_a_locked_account_and_an_unknown_user_get_the_same_answer(app_client: TestClient, runtime: Runtime) -> None:
    add_user(runtime, "tina", "triage")
    answers_for_tina = [_attempt(app_client, "tina") for _ in range(MAX_FAILED_SIGN_INS + 1)]
    answers_for_nobody = [_attempt(app_client, "nobody") for _ in range(MAX_FAILED_SIGN_INS + 1)]
    assert answers_for_tina == answers_for_nobody
    assert len(set(answers_for_tina)) == 1


def test_one_address_failing_again_and_again_is_throttled(tmp_path: Path, database_url: str, loaded_classifier) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime.build(make_settings(tmp_path, database_url, sign_in_failures_per_address=3))
    with use_runtime(runtime), TestClient(create_app(runtime), base_url="http://127.0.0.1") as client:
        statuses = [_attempt(client, f"guess{n}")[0] for n in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        add_user(runtime, "tina", "triage")
        throttled = client.post("/staff/login", data={"username": "tina", "password": "correct horse battery staple",
                                                       "csrf_token": csrf_of(client.get("/staff/login").text)},
                                follow_redirects=False)
        assert throttled.status_code == 429 and "retry-after" in throttled.headers
    runtime.database.dispose()


def test_behind_a_trusted_proxy_each_resident_has_their_own_contact_form_limit(tmp_path: Path, database_url: str, loaded_classifier) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, database_url, trusted_proxies=["testclient"])
    settings.web.submissions_per_minute = 1
    runtime = Runtime.build(settings)
    runtime.__dict__["classifier"] = loaded_classifier
    with use_runtime(runtime), TestClient(create_app(runtime), base_url="http://127.0.0.1") as client:
        first = post_contact(client, headers={"X-Forwarded-For": "203.0.113.1"})
        second = post_contact(client, headers={"X-Forwarded-For": "203.0.113.2"})
        again = post_contact(client, headers={"X-Forwarded-For": "203.0.113.1"})
    assert first.status_code == 303 and second.status_code == 303, second.text
    assert again.status_code == 429
    runtime.database.dispose()
