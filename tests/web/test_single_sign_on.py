"""Optional OpenID Connect sign-in (Entra ID and the like), against a stand-in provider on 127.0.0.1:
discovery, JWKS, the authorisation code flow with PKCE, the ID token's signature and claims checked,
and an account matched by email that must already exist."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from pydantic import SecretStr
from sqlalchemy import select

from intake.runtime import Runtime
from intake.settings import OidcSettings, Settings
from intake.users import create_user, set_email
from intake.web import oidc
from models import AuditEntry, StaffSession, User
from tests.web.conftest import PASSWORD, sign_in
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, StandInProvider, stand_in_provider


@pytest.fixture
def provider(runtime: Runtime) -> Iterator[StandInProvider]:
    with stand_in_provider() as stand_in:
        runtime.settings.oidc = OidcSettings(
            issuer=stand_in.issuer, client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET)
        )
        oidc.forget_providers()
        yield stand_in
        oidc.forget_providers()


def _add(runtime: Runtime, username: str, role: str, email: str | None) -> None:
    with runtime.database.session() as session:
        create_user(session, username=username, password=PASSWORD, role=role, email=email, actor="test")


def _sign_in_at_the_provider(client: TestClient, next_url: str = "") -> httpx.Response:
    """What a browser does: our app → the provider (which signs the person in) → back to our callback."""
    start = client.get("/staff/login/oidc", params={"next": next_url} if next_url else None, follow_redirects=False)
    assert start.status_code == 303, start.text
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    assert authorize.status_code == 302
    back = urlsplit(authorize.headers["location"])
    assert back.path == "/staff/login/oidc/callback"
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def test_the_sign_in_page_offers_single_sign_on_only_when_it_is_set_up(client: TestClient, runtime: Runtime) -> None:
    assert "sign-in-sso" not in client.get("/staff/login").text
    assert client.get("/staff/login/oidc", follow_redirects=False).status_code == 404
    with stand_in_provider() as stand_in:
        runtime.settings.oidc = OidcSettings(issuer=stand_in.issuer, client_id=CLIENT_ID)
        page = client.get("/staff/login").text
    assert 'id="sign-in-sso"' in page and "Sign in with your organisation account" in page


def test_a_colleague_with_an_account_signs_in_with_their_organisation_account(
    client: TestClient, runtime: Runtime, provider: StandInProvider
) -> None:
    _add(runtime, "aisha", "manager", "Aisha.Khan@landlord.example")  # stored in lower case; matched so too
    start = client.get("/staff/login/oidc", params={"next": "/staff/queues?assigned=me"}, follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert "openid" in query["scope"][0].split()

    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    back = urlsplit(authorize.headers["location"])
    done = client.get(f"{back.path}?{back.query}", follow_redirects=False)

    assert done.status_code == 303 and done.headers["location"] == "/staff/queues?assigned=me"
    page = client.get("/staff/queues")
    assert page.status_code == 200 and "aisha" in page.text
    with runtime.database.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "signed_in")).one()
        assert entry.actor == "aisha" and entry.details.get("method") == "oidc"
    # Local passwords keep working beside it.
    _add(runtime, "tom", "triage", None)
    other = TestClient(client.app, base_url="http://127.0.0.1")
    assert sign_in(other, "tom").status_code == 303


def test_nobody_gets_in_without_an_account_an_admin_made(
    client: TestClient, runtime: Runtime, provider: StandInProvider
) -> None:
    _add(runtime, "aisha", "manager", None)  # an account, but not linked to this email yet
    refused = _sign_in_at_the_provider(client)
    assert refused.status_code == 403
    assert "ask an admin to add your email address" in refused.text
    assert client.get("/staff/queues", follow_redirects=False).status_code == 303  # still signed out
    with runtime.database.session() as session:
        assert session.scalars(select(User)).all()[0].username == "aisha"  # no account was created
        assert len(session.scalars(select(User)).all()) == 1
        assert session.scalars(select(StaffSession)).all() == []
        user = session.scalars(select(User).where(User.username == "aisha")).one()
        set_email(session, user, "aisha.khan@landlord.example", actor="admin")
        user.active = False  # ...and a deactivated account stays out too
    assert _sign_in_at_the_provider(client).status_code == 403


@pytest.mark.parametrize(
    "tampering, expected",
    [
        ({"claims_override": {"nonce": "replayed-from-another-sign-in"}}, "could not be verified"),
        ({"claims_override": {"aud": "some-other-app"}}, "could not be verified"),
        ({"claims_override": {"iss": "https://login.example.invalid/other-tenant/v2.0"}}, "could not be verified"),
        ({"claims_override": {"exp": 1_000_000_000}}, "could not be verified"),  # expired in 2001
        ({"claims_override": {"email_verified": False}}, "did not give a verified email address"),
        ({"signing_key": "a key the provider does not publish"}, "could not be verified"),
    ],
    ids=["nonce", "audience", "issuer", "expired", "unverified-email", "wrong-key"],
)
def test_an_id_token_that_does_not_check_out_signs_nobody_in(
    client: TestClient, runtime: Runtime, provider: StandInProvider, tampering: dict[str, object], expected: str
) -> None:
    _add(runtime, "aisha", "manager", "aisha.khan@landlord.example")
    if "signing_key" in tampering:
        provider.signing_key = RSAKey.generate_key(2048, auto_kid=True)
    else:
        provider.claims_override = tampering["claims_override"]  # type: ignore[assignment]
    response = _sign_in_at_the_provider(client)
    assert response.status_code == 400, response.text
    assert expected in response.text
    assert client.get("/staff/queues", follow_redirects=False).status_code == 303


def test_a_callback_without_this_browsers_flow_or_with_the_providers_refusal_is_refused(
    client: TestClient, runtime: Runtime, provider: StandInProvider
) -> None:
    _add(runtime, "aisha", "manager", "aisha.khan@landlord.example")
    # The provider said no (the person cancelled): nothing is exchanged.
    cancelled = client.get("/staff/login/oidc/callback", params={"error": "access_denied", "state": "x"})
    assert cancelled.status_code == 400 and "cancelled or refused" in cancelled.text
    # A code and state made for another browser (login CSRF): this browser has no flow cookie.
    stranger = TestClient(client.app, base_url="http://127.0.0.1")
    start = stranger.get("/staff/login/oidc", follow_redirects=False)
    back = urlsplit(httpx.get(start.headers["location"], follow_redirects=False).headers["location"])
    forced = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert forced.status_code == 400 and "expired" in forced.text
    assert provider.token_requests == 0  # refused before any code was exchanged
    # This browser's own flow, but with the state changed on the way back.
    start = client.get("/staff/login/oidc", follow_redirects=False)
    back = urlsplit(httpx.get(start.headers["location"], follow_redirects=False).headers["location"])
    query = parse_qs(back.query)
    swapped = client.get(back.path, params={"code": query["code"][0], "state": "not-the-state"}, follow_redirects=False)
    assert swapped.status_code == 400
    assert provider.token_requests == 0


def test_settings_read_the_provider_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_OIDC_ISSUER", "https://login.microsoftonline.com/0000-tenant/v2.0")
    monkeypatch.setenv("INTAKE_OIDC_CLIENT_ID", "abc")
    monkeypatch.setenv("INTAKE_OIDC_CLIENT_SECRET", "from-the-environment")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.oidc.enabled and settings.oidc.client_id == "abc"
    assert settings.oidc.client_secret is not None
    assert settings.oidc.client_secret.get_secret_value() == "from-the-environment"
    assert "from-the-environment" not in repr(settings)


def test_an_admin_links_an_account_to_its_email_on_the_users_page(client: TestClient, runtime: Runtime) -> None:
    from tests.web.conftest import signed_in, staff_post

    signed_in(client, runtime, "root", "admin")
    _add(runtime, "aisha", "manager", None)
    with runtime.database.session() as session:
        aisha_id = session.scalars(select(User.id).where(User.username == "aisha")).one()
    done = staff_post(client, "/staff/users", f"/staff/users/{aisha_id}",
                      {"change": "email", "email": "Aisha.Khan@Landlord.example"})
    assert done.status_code == 303
    _add(runtime, "dup", "triage", None)
    with runtime.database.session() as session:
        dup_id = session.scalars(select(User.id).where(User.username == "dup")).one()
    clash = staff_post(client, "/staff/users", f"/staff/users/{dup_id}",
                       {"change": "email", "email": "aisha.khan@landlord.example"})
    assert clash.status_code == 400 and "already uses" in clash.text
    with runtime.database.session() as session:
        assert session.get(User, aisha_id).email == "aisha.khan@landlord.example"  # type: ignore[union-attr]


def test_an_unreachable_provider_is_said_plainly_and_passwords_still_work(client: TestClient, runtime: Runtime) -> None:
    with stand_in_provider() as stand_in:
        issuer = stand_in.issuer  # the provider is gone once this block ends: its port is closed
    runtime.settings.oidc = OidcSettings(issuer=issuer, client_id=CLIENT_ID)
    oidc.forget_providers()
    response = client.get("/staff/login/oidc", follow_redirects=False)
    assert response.status_code == 502
    assert "could not be reached; try again or use your password" in response.text
    _add(runtime, "tom", "triage", None)
    assert sign_in(client, "tom").status_code == 303
