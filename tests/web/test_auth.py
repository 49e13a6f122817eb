"""Signing in: sessions, lock-out, roles, and refusals that are logged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.runtime import Runtime
from intake.settings import Settings
from intake.web.auth import SESSION_COOKIE, cookie_is_secure
from models import AuditEntry, User
from tests.web.conftest import PASSWORD, add_user, csrf_of, sign_in, signed_in, staff_post


def _audit(runtime: Runtime, action: str) -> list[AuditEntry]:
    with runtime.database.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_signed_out_browser_is_sent_to_sign_in_and_back(client: TestClient, runtime: Runtime) -> None:
    response = client.get("/staff/queues/complaints?type=complaint", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=/staff/queues/complaints%3Ftype%3Dcomplaint"
    add_user(runtime, "tina", "triage")
    page = client.get(response.headers["location"])
    signed = client.post(
        "/staff/login",
        data={"username": "tina", "password": PASSWORD, "csrf_token": csrf_of(page.text),
              "next": "/staff/queues/complaints?type=complaint"},
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/staff/queues/complaints?type=complaint"


def test_the_session_cookie_is_httponly_and_samesite_lax(client: TestClient, runtime: Runtime) -> None:
    add_user(runtime, "tina", "triage")
    response = sign_in(client, "tina")
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # a plain-http local address in tests


def test_cookies_are_secure_except_on_a_local_http_address() -> None:
    assert not cookie_is_secure(Settings(_env_file=None, public_base_url="http://127.0.0.1:8000"))
    assert not cookie_is_secure(Settings(_env_file=None, public_base_url="http://localhost:8000"))
    assert cookie_is_secure(Settings(_env_file=None, public_base_url="https://intake.landlord.example"))
    assert cookie_is_secure(Settings(_env_file=None, public_base_url="http://intake.landlord.example"))


def test_only_a_path_inside_the_workspace_is_followed_after_sign_in(client: TestClient, runtime: Runtime) -> None:
    add_user(runtime, "tina", "triage")
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"username": "tina", "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff/queues"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client: TestClient, runtime: Runtime) -> None:
    add_user(runtime, "tina", "triage")
    wrong_password = sign_in(client, "tina", "not the password")
    unknown_user = sign_in(client, "nobody", "not the password")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "The username or password is not right" in wrong_password.text
    assert "The username or password is not right" in unknown_user.text
    assert SESSION_COOKIE not in client.cookies


def test_five_wrong_passwords_lock_the_account(client: TestClient, runtime: Runtime) -> None:
    add_user(runtime, "tina", "triage")
    for _ in range(5):
        sign_in(client, "tina", "guess")
    locked = sign_in(client, "tina")  # even the right password is refused now
    assert locked.status_code == 401
    assert "locked" in locked.text
    assert len(_audit(runtime, "account_locked")) == 1
    with runtime.database.session() as session:
        assert session.scalars(select(User)).one().locked_until is not None


def test_a_triage_user_calling_an_admin_page_is_refused_and_it_is_logged(
    client: TestClient, runtime: Runtime, caplog  # type: ignore[no-untyped-def]
) -> None:
    signed_in(client, runtime, "tina", "triage")
    for url in ("/staff/users", "/staff/tokens", "/staff/models", "/staff/settings"):
        response = client.get(url)
        assert response.status_code == 403
        assert "You cannot use this page" in response.text
    posted = staff_post(client, "/staff/queues", "/staff/users", {"username": "mallory", "role": "admin",
                                                                "password": "x" * 20})
    assert posted.status_code == 403
    with runtime.database.session() as session:
        assert session.scalars(select(User).where(User.username == "mallory")).first() is None
    refusals = _audit(runtime, "access_refused")
    assert [entry.details["path"] for entry in refusals] == [
        "/staff/users", "/staff/tokens", "/staff/models", "/staff/settings", "/staff/users"]
    assert all(entry.actor == "tina" for entry in refusals)
    assert "refused GET /staff/users: role triage below admin" in caplog.text


def test_a_manager_can_see_manager_pages_but_not_admin_ones(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "mo", "manager")
    assert client.get("/staff/queues").status_code == 200
    assert client.get("/staff/users").status_code == 403


def test_signing_out_ends_the_session(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "tina", "triage")
    response = staff_post(client, "/staff/queues", "/staff/logout", {})
    assert response.status_code == 303
    assert client.get("/staff/queues", follow_redirects=False).status_code == 303


def test_a_forged_session_cookie_is_ignored(client: TestClient, runtime: Runtime) -> None:
    add_user(runtime, "ada", "admin")
    client.cookies.set(SESSION_COOKIE, "eyJ1IjoiYWRhIn0.forged.signature")
    assert client.get("/staff/users", follow_redirects=False).status_code == 303


def test_a_new_password_ends_existing_sessions(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "tina", "triage")
    with runtime.database.session() as session:
        from intake.users import set_password

        user = session.scalars(select(User).where(User.username == "tina")).one()
        set_password(session, user, "a brand new password", actor="ada")
    assert client.get("/staff/queues", follow_redirects=False).status_code == 303


def test_a_forged_csrf_token_on_a_staff_form_is_refused(client: TestClient, runtime: Runtime) -> None:
    signed_in(client, runtime, "ada", "admin")
    response = client.post("/staff/users", data={"username": "mallory", "role": "admin", "password": "x" * 20,
                                                 "csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403
    with runtime.database.session() as session:
        assert session.scalars(select(User).where(User.username == "mallory")).first() is None
    assert _audit(runtime, "request_refused")
