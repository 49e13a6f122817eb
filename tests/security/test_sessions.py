"""Finding 5: a staff session ends on the server — on signing out, a password change, deactivation
and an admin's "sign out everywhere" — so a saved copy of the cookie opens nothing afterwards."""

from __future__ import annotations

from fastapi.testclient import TestClient

from intake.app import create_app
from intake.runtime import Runtime
from intake.web.auth import SESSION_COOKIE
from models import User
from tests.security.conftest import staff_client
from tests.web.conftest import PASSWORD, csrf_of, staff_post

NEW_PASSWORD = "violet kettle orbit anchor"


def _replay(runtime: Runtime, cookie: str) -> int:
    """What a second browser holding a copy of the cookie gets from the queues page."""
    with TestClient(create_app(runtime), base_url="http://127.0.0.1") as thief:
        thief.cookies.set(SESSION_COOKIE, cookie)
        return thief.get("/staff/queues", follow_redirects=False).status_code


def _user_id(runtime: Runtime, username: str) -> int:
    with runtime.database.session() as session:
        return next(u.id for u in session.query(User).filter(User.username == username))


def test_a_copied_cookie_stops_working_after_sign_out(runtime: Runtime) -> None:
    with staff_client(runtime, "tina", "triage") as browser:
        saved = browser.cookies[SESSION_COOKIE]
        assert _replay(runtime, saved) == 200
        page = browser.get("/staff/queues")
        assert browser.post("/staff/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    assert _replay(runtime, saved) == 303  # sent to sign in


def test_an_admin_setting_a_password_ends_the_users_sessions(runtime: Runtime) -> None:
    with staff_client(runtime, "tina", "triage") as tina, staff_client(runtime, "ada", "admin") as ada:
        saved = tina.cookies[SESSION_COOKIE]
        target = _user_id(runtime, "tina")
        response = staff_post(ada, "/staff/users", f"/staff/users/{target}", {"change": "password", "password": NEW_PASSWORD})
        assert response.status_code == 303, response.text
    assert _replay(runtime, saved) == 303


def test_deactivation_ends_the_users_sessions(runtime: Runtime) -> None:
    with staff_client(runtime, "tina", "triage") as tina, staff_client(runtime, "ada", "admin") as ada:
        saved = tina.cookies[SESSION_COOKIE]
        staff_post(ada, "/staff/users", f"/staff/users/{_user_id(runtime, 'tina')}", {"change": "deactivate"})
        staff_post(ada, "/staff/users", f"/staff/users/{_user_id(runtime, 'tina')}", {"change": "activate"})
    assert _replay(runtime, saved) == 303  # reactivating does not bring the old session back


def test_an_admin_can_sign_a_user_out_everywhere(runtime: Runtime) -> None:
    with staff_client(runtime, "tina", "triage") as tina, staff_client(runtime, "ada", "admin") as ada:
        saved = tina.cookies[SESSION_COOKIE]
        response = staff_post(ada, "/staff/users", f"/staff/users/{_user_id(runtime, 'tina')}", {"change": "sign_out"})
        assert response.status_code == 303
        assert ada.get("/staff/queues", follow_redirects=False).status_code == 200  # the admin's own session lives
    assert _replay(runtime, saved) == 303


def test_changing_your_own_password_keeps_this_browser_and_ends_the_others(runtime: Runtime) -> None:
    with staff_client(runtime, "tina", "triage") as browser:
        other = browser.cookies[SESSION_COOKIE]
        wrong = staff_post(browser, "/staff/account/password", "/staff/account/password",
                           {"current": "not my password", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert wrong.status_code == 400 and "current password is not right" in wrong.text
        weak = staff_post(browser, "/staff/account/password", "/staff/account/password",
                          {"current": PASSWORD, "new": "password1234", "confirm": "password1234"})
        assert weak.status_code == 400 and "too easy to guess" in weak.text
        changed = staff_post(browser, "/staff/account/password", "/staff/account/password",
                             {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert changed.status_code == 303, changed.text
        assert browser.get("/staff/queues", follow_redirects=False).status_code == 200
    assert _replay(runtime, other) == 303
