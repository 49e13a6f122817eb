"""Finding 8: production checks cannot be skipped by spelling: the environment is an enum read
case-insensitively, unknown values are refused, and production needs a strong key and signed webhooks."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from intake.settings import Environment, Settings

STRONG_KEY = secrets.token_urlsafe(48)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("spelling", ["production", "Production", "PRODUCTION", " production "])
def test_production_is_recognised_however_it_is_written(spelling: str) -> None:
    assert _settings(environment=spelling, secret_key=STRONG_KEY).environment is Environment.PRODUCTION
    with pytest.raises(ValidationError, match="INTAKE_SECRET_KEY"):
        _settings(environment=spelling, secret_key="secret")


@pytest.mark.parametrize("spelling", ["prod", "live", "staging", ""])
def test_an_unknown_environment_is_refused(spelling: str) -> None:
    with pytest.raises(ValidationError, match="environment"):
        _settings(environment=spelling, secret_key=STRONG_KEY)


@pytest.mark.parametrize(
    "key",
    ["", "secret", "development-only-secret-change-me", "a-long-but-placeholder-key-CHANGE-ME-please-0123",
     "short-but-random-Zq8#", "ab" * 20],
)
def test_production_refuses_a_weak_secret_key(key: str) -> None:
    with pytest.raises(ValidationError, match="INTAKE_SECRET_KEY is too weak"):
        _settings(environment="production", secret_key=key)


def test_production_refuses_to_skip_twilio_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TWILIO_SKIP_SIGNATURE_VALIDATION", "true")
    monkeypatch.setenv("INTAKE_ENVIRONMENT", "Production")
    monkeypatch.setenv("INTAKE_SECRET_KEY", STRONG_KEY)
    with pytest.raises(ValidationError, match="SKIP_SIGNATURE_VALIDATION"):
        Settings(_env_file=None)
    monkeypatch.setenv("INTAKE_ENVIRONMENT", "development")
    assert Settings(_env_file=None).twilio.skip_signature_validation  # still there for local development


def test_trusted_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TRUSTED_PROXIES", '["10.0.0.0/8", "127.0.0.1"]')
    assert Settings(_env_file=None).trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
