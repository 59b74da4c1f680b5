"""Backend selection, credential checks, the fallback set, and the shared helpers."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from time import time
from typing import Any

import pytest

from watchroster.core.config import Settings
from watchroster.outbox.providers import (
    ConsoleProvider,
    FileProvider,
    OutgoingMessage,
    ProviderSet,
    TwilioProvider,
    WhatsAppProvider,
    build_provider,
    build_providers,
    mask_phone,
)
from watchroster.outbox.providers.base import parse_retry_after, redact

TWILIO = {
    "twilio_account_sid": "AC123",
    "twilio_auth_token": "tw-token",
    "twilio_from_number": "+15005550006",
}
WHATSAPP = {"whatsapp_token": "wa-token", "whatsapp_phone_number_id": "1098765432"}


def make_settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.fixture
def built() -> Iterator[list[ProviderSet]]:
    """Collects provider sets so their HTTP clients are closed after the test."""
    sets: list[ProviderSet] = []
    yield sets
    for provider_set in sets:
        provider_set.close()


def test_default_backend_is_console_without_fallback(built: list[ProviderSet]) -> None:
    built.append(providers := build_providers(make_settings()))

    assert isinstance(providers.primary, ConsoleProvider)
    assert providers.sms_fallback is None


def test_file_backend_writes_to_message_file(tmp_path: Path, built: list[ProviderSet]) -> None:
    path = tmp_path / "m.jsonl"
    built.append(
        providers := build_providers(make_settings(message_backend="file", message_file=path))
    )

    assert isinstance(providers.primary, FileProvider)
    assert providers.primary.path == path


@pytest.mark.parametrize(
    ("backend", "values", "kind", "channel"),
    [
        ("twilio", TWILIO, TwilioProvider, "sms"),
        ("whatsapp", WHATSAPP, WhatsAppProvider, "whatsapp"),
    ],
)
def test_real_backends(
    built: list[ProviderSet], backend: str, values: dict[str, str], kind: type, channel: str
) -> None:
    built.append(providers := build_providers(make_settings(message_backend=backend, **values)))

    assert isinstance(providers.primary, kind)
    assert providers.primary.name == backend
    assert providers.primary.channel == channel


def test_messaging_service_sid_replaces_from_number(built: list[ProviderSet]) -> None:
    values = {**TWILIO, "twilio_from_number": "", "twilio_messaging_service_sid": "MG1"}
    built.append(providers := build_providers(make_settings(message_backend="twilio", **values)))

    assert isinstance(providers.primary, TwilioProvider)


@pytest.mark.parametrize(
    ("backend", "values", "setting"),
    [
        ("twilio", {**TWILIO, "twilio_account_sid": ""}, "WATCHROSTER_TWILIO_ACCOUNT_SID"),
        ("twilio", {**TWILIO, "twilio_auth_token": ""}, "WATCHROSTER_TWILIO_AUTH_TOKEN"),
        ("twilio", {**TWILIO, "twilio_from_number": ""}, "WATCHROSTER_TWILIO_FROM_NUMBER"),
        ("twilio", {}, "WATCHROSTER_TWILIO_MESSAGING_SERVICE_SID"),
        ("whatsapp", {**WHATSAPP, "whatsapp_token": ""}, "WATCHROSTER_WHATSAPP_TOKEN"),
        ("whatsapp", {}, "WATCHROSTER_WHATSAPP_PHONE_NUMBER_ID"),
        (
            "whatsapp",
            {**WHATSAPP, "whatsapp_otp_template": " "},
            "WATCHROSTER_WHATSAPP_OTP_TEMPLATE",
        ),
    ],
)
def test_missing_credentials_name_the_setting(
    backend: str, values: dict[str, str], setting: str
) -> None:
    with pytest.raises(ValueError, match=setting):
        build_providers(make_settings(message_backend=backend, **values))


def test_missing_credentials_error_does_not_echo_secrets() -> None:
    with pytest.raises(ValueError) as caught:
        build_providers(
            make_settings(message_backend="twilio", **{**TWILIO, "twilio_account_sid": ""})
        )

    assert "tw-token" not in str(caught.value)


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown message backend 'pigeon'"):
        build_provider(make_settings(), "pigeon")


def test_whatsapp_with_twilio_fallback(built: list[ProviderSet]) -> None:
    values = {**WHATSAPP, **TWILIO, "sms_fallback_backend": "twilio"}
    built.append(providers := build_providers(make_settings(message_backend="whatsapp", **values)))

    assert isinstance(providers.primary, WhatsAppProvider)
    assert isinstance(providers.sms_fallback, TwilioProvider)
    assert providers.for_channel(None) is providers.primary
    assert providers.for_channel("whatsapp") is providers.primary
    assert providers.for_channel("sms") is providers.sms_fallback
    assert providers.fallback_for("whatsapp") is providers.sms_fallback
    assert providers.fallback_for("sms") is None


def test_fallback_without_twilio_credentials_names_both_settings() -> None:
    values = {**WHATSAPP, "sms_fallback_backend": "twilio"}

    with pytest.raises(ValueError) as caught:
        build_providers(make_settings(message_backend="whatsapp", **values))

    assert "WATCHROSTER_SMS_FALLBACK_BACKEND=twilio" in str(caught.value)
    assert "WATCHROSTER_TWILIO_ACCOUNT_SID" in str(caught.value)


def test_whatsapp_without_fallback_cannot_send_sms(built: list[ProviderSet]) -> None:
    built.append(
        providers := build_providers(make_settings(message_backend="whatsapp", **WHATSAPP))
    )

    assert providers.sms_fallback is None
    assert providers.for_channel("sms") is None
    assert providers.fallback_for("whatsapp") is None


def test_fallback_is_not_built_for_an_sms_primary(built: list[ProviderSet]) -> None:
    values = {**TWILIO, "sms_fallback_backend": "twilio"}
    built.append(providers := build_providers(make_settings(message_backend="twilio", **values)))

    assert providers.sms_fallback is None
    assert providers.for_channel("sms") is providers.primary
    assert providers.for_channel("whatsapp") is None


@pytest.mark.parametrize("backend", ["console", "file"])
def test_dev_backends_stand_in_for_every_channel(
    tmp_path: Path, built: list[ProviderSet], backend: str
) -> None:
    values = {"message_backend": backend, "message_file": tmp_path / "m.jsonl"}
    built.append(providers := build_providers(make_settings(**values)))

    assert providers.for_channel("whatsapp") is providers.primary
    assert providers.for_channel("sms") is providers.primary


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+27821234567", "+2782*****67"), ("+14155552671", "+1415*****71"), ("+1234", "*****")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_redact_removes_body_params_and_digit_runs() -> None:
    message = OutgoingMessage(1, "otp", "sms", "+27821234567", "Code AB12CD", {"code": "AB12CD"})
    text = "To 27821234567 / +27 82 123 4567 rejected Code AB12CD; code AB12CD; 4839 tok"

    result = redact(text, message, secrets=("tok",))

    assert result == (
        "To 27821****67 / +27 8********67 rejected [redacted]; code [redacted]; [digits] [redacted]"
    )
    assert len(redact("x" * 1000, message)) == 200


def test_redact_masks_a_number_that_contains_the_code() -> None:
    message = OutgoingMessage(1, "otp", "sms", "+27821234567", "Code 123456", {"code": "123456"})
    text = "The 'To' number +27821234567 is invalid (Code 123456)"

    assert redact(text, message) == "The 'To' number +2782*****67 is invalid ([redacted])"


@pytest.mark.parametrize(
    ("header", "expected"), [(None, None), ("", None), ("7", 7.0), ("-3", 0.0), ("soon", None)]
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    seconds = parse_retry_after(formatdate(time() + 120, usegmt=True))

    assert seconds is not None
    assert 100 < seconds <= 120
