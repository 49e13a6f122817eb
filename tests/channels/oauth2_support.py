"""Fixtures for the OAuth2 (Microsoft 365) email tests: the local token service, a Dovecot that
checks tokens against it, and an app registration per test.

Made available to the channel tests by tests/channels/conftest.py (as twilio_support's are).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from channels.email_oauth2 import OAuth2Credentials, TokenProvider
from tests.channels.mail_servers import DovecotServer, find_dovecot
from tests.channels.token_service import App, TokenService
from tests.conftest import REQUIRE_SERVICES

if TYPE_CHECKING:
    from tests.channels.conftest import TestMailbox


@pytest.fixture(scope="session")
def token_service() -> Iterator[TokenService]:
    service = TokenService()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def oauth2_dovecot(token_service: TokenService) -> Iterator[DovecotServer]:
    binary = find_dovecot()
    if binary is None:
        message = "dovecot is not installed (apt-get install dovecot-imapd; `make test` installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and INTAKE_TEST_REQUIRE_SERVICES=1")
        pytest.skip(message)
    server = DovecotServer(binary, oauth2_introspection_url=token_service.introspection_url)
    try:
        server.start()
    except RuntimeError as error:
        server.stop()
        pytest.fail(f"dovecot (oauth2) would not start: {error}")
    yield server
    server.stop()


@pytest.fixture
def m365_mailbox(oauth2_dovecot: DovecotServer) -> Iterator[TestMailbox]:
    """A folder of the "intake" account on the OAuth2 Dovecot (the complaints@ shared mailbox)."""
    from tests.channels.conftest import _make_mailbox  # the conftest imports this module

    yield from _make_mailbox(oauth2_dovecot, oauth2_dovecot.user)


@pytest.fixture
def m365_repairs_mailbox(oauth2_dovecot: DovecotServer) -> Iterator[TestMailbox]:
    from tests.channels.conftest import _make_mailbox

    yield from _make_mailbox(oauth2_dovecot, "repairs")


@dataclass
class Registration:
    """An app registration on the token service, as a landlord's IT team would make in Entra ID."""

    service: TokenService
    app: App

    @property
    def credentials(self) -> OAuth2Credentials:
        return self.credentials_with()

    def credentials_with(self, **changes: str) -> OAuth2Credentials:
        values = {
            "tenant_id": self.app.tenant,
            "client_id": self.app.client_id,
            "client_secret": self.app.secret,
            "token_endpoint": self.service.token_endpoint(self.app.tenant),
        }
        values.update(changes)
        return OAuth2Credentials(**values)

    def provider(self, **changes: str) -> TokenProvider:
        return TokenProvider(self.credentials_with(**changes), timeout=10)


def register_app(service: TokenService, *, mailbox: str | None, roles: list[str] | None = None) -> Registration:
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    app = service.register(tenant, str(uuid.uuid4()), f"secret-{uuid.uuid4().hex}", mailbox=mailbox, roles=roles)
    return Registration(service, app)
