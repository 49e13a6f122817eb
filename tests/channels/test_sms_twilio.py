"""The SMS sender: the real `twilio` client, over real HTTP, against the loopback stand-in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from channels.base import OutboundAcknowledgement, PermanentSendError, TemporarySendError, UncertainSendError
from channels.errors import ConfigurationError
from channels.registry import resolve_sender
from channels.sms_twilio import BaseUrlHttpClient, PooledHttpClient, TwilioSmsSender
from intake.settings import Settings
from tests.channels.twilio_standin import TwilioStandIn
from tests.channels.twilio_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    LANDLORD_NUMBER,
    PUBLIC_BASE_URL,
    new_mobile,
    twilio_settings,
)


def _settings(standin: TwilioStandIn, tmp_path: Path, **twilio: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        public_base_url=PUBLIC_BASE_URL,
        outbox_dir=tmp_path,
        twilio=twilio_settings(standin, **twilio),
    )


def _acknowledgement(
    to: str, body: str = "We have your message. Your reference is SR-2026-000042."
) -> OutboundAcknowledgement:
    return OutboundAcknowledgement(
        acknowledgement_id=42, reference="SR-2026-000042", recipient=to, subject=None, body_text=body,
        written_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    )


def test_a_text_goes_out_through_the_twilio_client_with_a_status_callback(
    twilio_standin: TwilioStandIn, tmp_path: Path
) -> None:
    sender = TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path))
    to = new_mobile()
    result = sender.send(_acknowledgement(to))

    [request] = twilio_standin.messages
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert (request.username, request.password) == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.form["To"] == to
    assert request.form["From"] == LANDLORD_NUMBER
    assert "SR-2026-000042" in request.form["Body"]
    assert request.form["StatusCallback"] == f"{PUBLIC_BASE_URL}/webhooks/twilio/status"
    assert request.headers["User-Agent"].startswith("twilio-python/")
    assert result.provider_id is not None and result.provider_id.startswith("SM")


def test_a_messaging_service_picks_the_number_itself(twilio_standin: TwilioStandIn, tmp_path: Path) -> None:
    settings = _settings(twilio_standin, tmp_path, from_number=None, messaging_service_sid="MG" + "0" * 32)
    TwilioSmsSender.from_settings(settings).send(_acknowledgement(new_mobile()))
    [request] = twilio_standin.messages
    assert request.form["MessagingServiceSid"] == "MG" + "0" * 32
    assert "From" not in request.form


def test_twilio_5xx_is_temporary_and_the_next_attempt_goes_through(
    twilio_standin: TwilioStandIn, tmp_path: Path
) -> None:
    sender = TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path))
    twilio_standin.fail_next(1, status=503)
    with pytest.raises(TemporarySendError, match="503"):
        sender.send(_acknowledgement(new_mobile()))
    assert sender.send(_acknowledgement(new_mobile())).provider_id
    assert [r.answered for r in twilio_standin.requests] == [503, 201]


def test_a_timeout_after_sending_is_uncertain_not_retried(twilio_standin: TwilioStandIn, tmp_path: Path) -> None:
    # The request went out; Twilio may have taken it. Retrying could text the resident twice.
    sender = TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path, timeout_seconds=0.3))
    twilio_standin.stall_next(1, seconds=1.0)
    with pytest.raises(UncertainSendError, match="did not answer in time"):
        sender.send(_acknowledgement(new_mobile()))


@pytest.mark.parametrize("code", [21610, 21614, 21211, 21408, 21612])
def test_a_number_that_cannot_take_our_texts_is_a_permanent_failure_with_its_code(
    twilio_standin: TwilioStandIn, tmp_path: Path, code: int
) -> None:
    to = new_mobile()
    twilio_standin.refuse(to, code=code)
    sender = TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path))
    with pytest.raises(PermanentSendError) as raised:
        sender.send(_acknowledgement(to))
    assert raised.value.code == str(code)


def test_wrong_credentials_are_retried_not_dropped(twilio_standin: TwilioStandIn, tmp_path: Path) -> None:
    sender = TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path, auth_token=SecretStr("wrong")))
    with pytest.raises(TemporarySendError, match="401"):
        sender.send(_acknowledgement(new_mobile()))


def test_emoji_and_non_latin_text_reach_twilio_intact(twilio_standin: TwilioStandIn, tmp_path: Path) -> None:
    body = "Received 👍 — Получили ваше сообщение — 已收到"
    TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path)).send(
        _acknowledgement(new_mobile(), body)
    )
    assert twilio_standin.messages[0].form["Body"] == body


def test_the_base_url_rewrite_keeps_path_and_query_and_a_gateway_prefix() -> None:
    client = BaseUrlHttpClient("https://sms-gateway.internal:8443/twilio/")
    assert (
        client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5")
        == "https://sms-gateway.internal:8443/twilio/2010-04-01/Accounts/AC1/Messages.json?PageSize=5"
    )
    assert (
        client.rewrite("https://api.dublin.ie1.twilio.com/x") == "https://sms-gateway.internal:8443/twilio/x"
    )
    assert client.rewrite("https://example.org/x") == "https://example.org/x"


def test_the_default_base_url_leaves_the_library_alone(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        outbox_dir=tmp_path,
        twilio={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": LANDLORD_NUMBER},
    )
    sender = TwilioSmsSender.from_settings(settings)
    assert not isinstance(sender.client.http_client, BaseUrlHttpClient)
    assert isinstance(sender.client.http_client, PooledHttpClient) and sender.client.http_client.base is None


def test_a_proxy_in_the_environment_keeps_the_requests_client_that_uses_it(
    twilio_standin: TwilioStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.landlord.example:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.landlord.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path)).client.http_client
    assert isinstance(client, BaseUrlHttpClient)
    assert client.proxy == {"http": "http://proxy.landlord.example:3128", "https": "http://proxy.landlord.example:3128"}


def test_texts_sent_one_after_another_reuse_one_connection(twilio_standin: TwilioStandIn, tmp_path: Path) -> None:
    sender = TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path))
    for _ in range(3):
        sender.send(_acknowledgement(new_mobile()))
    assert len(twilio_standin.messages) == 3
    assert twilio_standin.connections == 1


def test_a_connection_dropped_after_the_text_went_out_is_uncertain(tmp_path: Path) -> None:
    """Twilio read the request and the connection broke before it answered: it may have sent the
    text, so it is never sent again blindly (as with the `requests` transport)."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def read_then_hang_up() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.close()

    threading.Thread(target=read_then_hang_up, daemon=True).start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        public_base_url=PUBLIC_BASE_URL,
        outbox_dir=tmp_path,
        twilio={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": LANDLORD_NUMBER,
                "api_base_url": f"http://127.0.0.1:{port}"},
    )
    try:
        with pytest.raises(UncertainSendError, match="broke after sending"):
            TwilioSmsSender.from_settings(settings).send(_acknowledgement(new_mobile()))
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("twilio", "missing"),
    [
        ({"account_sid": ACCOUNT_SID}, "AUTH_TOKEN"),
        ({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}, "FROM_NUMBER"),
    ],
)
def test_missing_settings_fail_loudly_and_say_which(
    tmp_path: Path, twilio: dict[str, str], missing: str
) -> None:
    settings = Settings(_env_file=None, outbox_dir=tmp_path, twilio=twilio)  # type: ignore[call-arg,arg-type]
    with pytest.raises(ConfigurationError, match=missing):
        TwilioSmsSender.from_settings(settings)


def test_the_registry_uses_twilio_once_an_account_is_configured(
    twilio_standin: TwilioStandIn, tmp_path: Path
) -> None:
    assert isinstance(resolve_sender("sms", _settings(twilio_standin, tmp_path)), TwilioSmsSender)
    unconfigured = Settings(_env_file=None, outbox_dir=tmp_path)  # type: ignore[call-arg]
    assert not isinstance(resolve_sender("sms", unconfigured), TwilioSmsSender)


def test_texts_sent_from_many_threads_at_once_keep_their_connections_for_the_next_batch(
    twilio_standin: TwilioStandIn, tmp_path: Path
) -> None:
    """A worker sends a batch's texts from `concurrent_sends` threads at once: every one of their
    connections is kept, so the next batch opens none (a new connection a text is a TLS handshake
    each, to Twilio)."""
    from concurrent.futures import ThreadPoolExecutor

    sender = TwilioSmsSender.from_settings(_settings(twilio_standin, tmp_path))
    CONCURRENT_SENDS = sender.concurrent_sends  # noqa: N806 - as the setting reads

    def one_batch() -> None:
        # Each held half a second, so all of them are in flight together even on a loaded machine.
        twilio_standin.stall_next(CONCURRENT_SENDS, seconds=0.5)
        with ThreadPoolExecutor(max_workers=CONCURRENT_SENDS) as pool:
            list(pool.map(lambda _: sender.send(_acknowledgement(new_mobile())), range(CONCURRENT_SENDS)))

    one_batch()
    opened_by_the_first_batch = twilio_standin.connections
    one_batch()

    assert len(twilio_standin.messages) == 2 * CONCURRENT_SENDS
    assert opened_by_the_first_batch == CONCURRENT_SENDS
    assert twilio_standin.connections == opened_by_the_first_batch


def test_how_many_texts_go_to_twilio_at_once_is_a_setting_within_twilios_own_limit(
    twilio_standin: TwilioStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "ACCOUNT_SID": ACCOUNT_SID,
        "AUTH_TOKEN": AUTH_TOKEN,
        "FROM_NUMBER": LANDLORD_NUMBER,
        "API_BASE_URL": twilio_standin.url,
        "CONCURRENT_SENDS": "12",
    }.items():
        monkeypatch.setenv(f"INTAKE_TWILIO_{name}", value)
    settings = Settings(_env_file=None, outbox_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.twilio.concurrent_sends == 12
    assert TwilioSmsSender.from_settings(settings).concurrent_sends == 12
    with pytest.raises(ValueError, match="100"):  # Twilio refuses an account more than 100 at once
        twilio_settings(twilio_standin, concurrent_sends=101)
