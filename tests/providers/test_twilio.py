"""Twilio adapter against a local HTTP server that imitates the Messages API."""

from __future__ import annotations

import base64
import socket
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watchroster.core.config import Settings
from watchroster.outbox.providers import (
    OutgoingMessage,
    PermanentSendError,
    SendError,
    TransientSendError,
    TwilioProvider,
    build_provider,
)

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-secret-auth-token"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
PHONE = "+27821234567"
CODE = "483920"
OTP = OutgoingMessage(
    outbox_id=42,
    message_type="otp",
    channel="sms",
    recipient=PHONE,
    body=f"Your WatchRoster login code is {CODE}. It expires in 10 minutes.",
    params={"code": CODE},
)


def make_provider(base_url: str, timeout: float = 5.0, **overrides: str) -> TwilioProvider:
    values: dict[str, Any] = {
        "message_backend": "twilio",
        "twilio_account_sid": SID,
        "twilio_auth_token": TOKEN,
        "twilio_from_number": "+15005550006",
        "twilio_base_url": base_url,
        "provider_timeout_seconds": timeout,
        **overrides,
    }
    settings = Settings(_env_file=None, **values)
    provider = build_provider(settings, "twilio")
    assert isinstance(provider, TwilioProvider)
    return provider


@pytest.fixture
def provider(httpserver: HTTPServer) -> TwilioProvider:
    return make_provider(httpserver.url_for("/").rstrip("/"))


def assert_clean(exc: SendError) -> None:
    """last_error must never leak the body, the login code, the token or the full number."""
    text = str(exc)
    for secret in (OTP.body, CODE, TOKEN, PHONE, PHONE.removeprefix("+")):
        assert secret not in text
    assert "+2782*****67" in text


def twilio_error(status: int, code: int, message: str) -> dict[str, object]:
    return {"code": code, "message": message, "more_info": "https://x", "status": status}


def test_send_posts_form_with_basic_auth_and_idempotency_token(
    httpserver: HTTPServer, provider: TwilioProvider
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {"sid": "SM0123", "status": "queued"}, status=201
    )

    assert provider.send(OTP) == "SM0123"

    request, _ = httpserver.log[-1]
    assert request.method == "POST"
    assert request.path == PATH
    assert request.mimetype == "application/x-www-form-urlencoded"
    assert request.form.to_dict() == {"To": PHONE, "Body": OTP.body, "From": "+15005550006"}
    credentials = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    assert request.headers["I-Twilio-Idempotency-Token"] == "watchroster-outbox-42"


def test_messaging_service_sid_wins_over_from_number(httpserver: HTTPServer) -> None:
    provider = make_provider(
        httpserver.url_for("/").rstrip("/"), twilio_messaging_service_sid="MG0123"
    )
    httpserver.expect_request(PATH, method="POST").respond_with_json({"sid": "SM1"}, status=201)

    assert provider.send(OTP) == "SM1"

    request, _ = httpserver.log[-1]
    assert request.form.to_dict() == {
        "To": PHONE,
        "Body": OTP.body,
        "MessagingServiceSid": "MG0123",
    }


def test_client_is_reused_and_closed(httpserver: HTTPServer, provider: TwilioProvider) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({"sid": "SM1"}, status=201)
    client = provider._client

    provider.send(OTP)
    provider.send(OTP)
    provider.close()

    assert provider._client is client
    assert client.is_closed
    assert len(httpserver.log) == 2


@pytest.mark.parametrize("code", [21211, 21610, 21614, 21408])
def test_recipient_errors_are_permanent(
    httpserver: HTTPServer, provider: TwilioProvider, code: int
) -> None:
    # Twilio echoes the number (and we pretend the body) back in its message text.
    text = f"The 'To' number {PHONE} is not valid for '{OTP.body}'"
    httpserver.expect_request(PATH).respond_with_json(twilio_error(400, code, text), status=400)

    with pytest.raises(PermanentSendError) as caught:
        provider.send(OTP)

    assert caught.value.permanent is True
    assert caught.value.provider_code == code
    assert str(code) in str(caught.value)
    assert_clean(caught.value)


@pytest.mark.parametrize(("status", "code"), [(400, 21602), (401, 20003), (404, 20404)])
def test_other_4xx_are_permanent(
    httpserver: HTTPServer, provider: TwilioProvider, status: int, code: int
) -> None:
    text = f"Authenticate with {TOKEN}"
    httpserver.expect_request(PATH).respond_with_json(twilio_error(status, code, text), status)

    with pytest.raises(PermanentSendError) as caught:
        provider.send(OTP)

    assert f"HTTP {status}" in str(caught.value)
    assert str(code) in str(caught.value)
    assert_clean(caught.value)


@pytest.mark.parametrize("status", [408, 500, 503])
def test_408_and_5xx_are_transient(
    httpserver: HTTPServer, provider: TwilioProvider, status: int
) -> None:
    httpserver.expect_request(PATH).respond_with_json(twilio_error(status, 20500, "oops"), status)

    with pytest.raises(TransientSendError) as caught:
        provider.send(OTP)

    assert caught.value.permanent is False
    assert caught.value.retry_after is None
    assert_clean(caught.value)


def test_5xx_with_html_body_is_transient(httpserver: HTTPServer, provider: TwilioProvider) -> None:
    httpserver.expect_request(PATH).respond_with_data("<html>bad gateway</html>", status=502)

    with pytest.raises(TransientSendError) as caught:
        provider.send(OTP)

    assert "HTTP 502" in str(caught.value)
    assert_clean(caught.value)


def test_429_honours_retry_after(httpserver: HTTPServer, provider: TwilioProvider) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        twilio_error(429, 20429, "Too Many Requests"), status=429, headers={"Retry-After": "7"}
    )

    with pytest.raises(TransientSendError) as caught:
        provider.send(OTP)

    assert caught.value.retry_after == 7
    assert "20429" in str(caught.value)
    assert_clean(caught.value)


def test_timeout_is_transient(httpserver: HTTPServer) -> None:
    def slow(_: Request) -> Response:
        time.sleep(0.6)
        return Response('{"sid": "SM1"}', status=201, content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(slow)
    provider = make_provider(httpserver.url_for("/").rstrip("/"), timeout=0.2)

    with pytest.raises(TransientSendError) as caught:
        provider.send(OTP)

    assert "Timeout" in str(caught.value)
    assert_clean(caught.value)


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = make_provider(f"http://127.0.0.1:{port}")

    with pytest.raises(TransientSendError) as caught:
        provider.send(OTP)

    assert "ConnectError" in str(caught.value)
    assert SID not in str(caught.value)
    assert_clean(caught.value)
