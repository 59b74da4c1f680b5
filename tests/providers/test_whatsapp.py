"""WhatsApp Cloud API adapter against a local HTTP server that imitates Graph `/messages`."""

from __future__ import annotations

import json
import socket
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watchroster.core.config import Settings
from watchroster.outbox.providers import (
    OutgoingMessage,
    PermanentSendError,
    SendError,
    TransientSendError,
    WhatsAppProvider,
    build_provider,
)

TOKEN = "EAAG-whatsapp-secret-token"
PATH = "/v21.0/1098765432/messages"
PHONE = "+27821234567"
CODE = "483920"
OTP = OutgoingMessage(
    outbox_id=7,
    message_type="otp",
    channel="whatsapp",
    recipient=PHONE,
    body=f"Your WatchRoster login code is {CODE}.",
    params={"code": CODE},
)
NOTICE = OutgoingMessage(
    outbox_id=8,
    message_type="booking_confirmed",
    channel="whatsapp",
    recipient=PHONE,
    body="Booked: Saturday patrol\n  08:00-10:00,\tGate 3",
    params={},
)
SUCCESS = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "27821234567", "wa_id": "27821234567"}],
    "messages": [{"id": "wamid.HBgLMjc4MjEyMzQ1NjcVAgARGBI"}],
}


def make_provider(base_url: str, timeout: float = 5.0) -> WhatsAppProvider:
    settings = Settings(
        _env_file=None,
        message_backend="whatsapp",
        whatsapp_token=TOKEN,
        whatsapp_phone_number_id="1098765432",
        whatsapp_base_url=base_url,
        provider_timeout_seconds=timeout,
    )
    provider = build_provider(settings, "whatsapp")
    assert isinstance(provider, WhatsAppProvider)
    return provider


@pytest.fixture
def provider(httpserver: HTTPServer) -> WhatsAppProvider:
    return make_provider(httpserver.url_for("/").rstrip("/"))


def assert_clean(exc: SendError, message: OutgoingMessage = OTP) -> None:
    """last_error must never leak the body, the login code, the token or the full number."""
    text = str(exc)
    for secret in (message.body, CODE, TOKEN, PHONE, PHONE.removeprefix("+")):
        assert secret not in text
    assert "+2782*****67" in text


def graph_error(code: int, message: str, subcode: int | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message, "type": "OAuthException"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def test_otp_uses_authentication_template_with_code_button(
    httpserver: HTTPServer, provider: WhatsAppProvider
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(SUCCESS)

    assert provider.send(OTP) == "wamid.HBgLMjc4MjEyMzQ1NjcVAgARGBI"

    request, _ = httpserver.log[-1]
    assert request.method == "POST"
    assert request.path == PATH
    assert request.mimetype == "application/json"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.get_data()) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "27821234567",
        "type": "template",
        "template": {
            "name": "login_code",
            "language": {"code": "en"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": CODE}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": CODE}],
                },
            ],
        },
    }


def test_other_messages_use_notice_template_with_flattened_body(
    httpserver: HTTPServer, provider: WhatsAppProvider
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(SUCCESS)

    assert provider.send(NOTICE) == "wamid.HBgLMjc4MjEyMzQ1NjcVAgARGBI"

    request, _ = httpserver.log[-1]
    # Meta rejects newlines, tabs and 4+ spaces inside template parameters.
    assert json.loads(request.get_data())["template"] == {
        "name": "watchroster_notice",
        "language": {"code": "en"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Booked: Saturday patrol 08:00-10:00, Gate 3"}
                ],
            }
        ],
    }


def test_success_without_message_id_returns_none(
    httpserver: HTTPServer, provider: WhatsAppProvider
) -> None:
    httpserver.expect_request(PATH).respond_with_json({"messaging_product": "whatsapp"})

    assert provider.send(NOTICE) is None


@pytest.mark.parametrize(
    ("status", "code"), [(400, 131026), (400, 131030), (400, 100), (401, 190), (403, 200)]
)
def test_4xx_are_permanent(
    httpserver: HTTPServer, provider: WhatsAppProvider, status: int, code: int
) -> None:
    text = f"(#{code}) Recipient {PHONE} rejected; param {CODE}; token {TOKEN}"
    httpserver.expect_request(PATH).respond_with_json(graph_error(code, text, 2494010), status)

    with pytest.raises(PermanentSendError) as caught:
        provider.send(OTP)

    assert caught.value.permanent is True
    assert caught.value.provider_code == code
    assert f"HTTP {status}, error {code}/2494010" in str(caught.value)
    assert_clean(caught.value)


@pytest.mark.parametrize("code", [4, 80007, 130429, 131048, 131056])
def test_rate_limit_codes_are_transient(
    httpserver: HTTPServer, provider: WhatsAppProvider, code: int
) -> None:
    httpserver.expect_request(PATH).respond_with_json(graph_error(code, "slow down"), 400)

    with pytest.raises(TransientSendError) as caught:
        provider.send(NOTICE)

    assert caught.value.permanent is False
    assert str(code) in str(caught.value)
    assert_clean(caught.value, NOTICE)


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_are_transient(httpserver: HTTPServer, provider: WhatsAppProvider, status: int) -> None:
    httpserver.expect_request(PATH).respond_with_json(graph_error(131000, "went wrong"), status)

    with pytest.raises(TransientSendError) as caught:
        provider.send(OTP)

    assert "131000" in str(caught.value)
    assert_clean(caught.value)


def test_429_honours_retry_after(httpserver: HTTPServer, provider: WhatsAppProvider) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        graph_error(130429, "Rate limit hit"), status=429, headers={"Retry-After": "7"}
    )

    with pytest.raises(TransientSendError) as caught:
        provider.send(OTP)

    assert caught.value.retry_after == 7
    assert_clean(caught.value)


def test_timeout_is_transient(httpserver: HTTPServer) -> None:
    def slow(_: Request) -> Response:
        time.sleep(0.6)
        return Response(json.dumps(SUCCESS), content_type="application/json")

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
    assert_clean(caught.value)


@pytest.mark.parametrize("params", [{}, {"code": "1234567890123456"}])
def test_unusable_otp_code_fails_permanently_without_a_request(
    httpserver: HTTPServer, provider: WhatsAppProvider, params: dict[str, str]
) -> None:
    message = OutgoingMessage(7, "otp", "whatsapp", PHONE, "Your code is 1234567890123456", params)

    with pytest.raises(PermanentSendError) as caught:
        provider.send(message)

    assert "1234567890123456" not in str(caught.value)
    assert httpserver.log == []
