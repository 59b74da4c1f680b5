"""Every text setting is parsed when the process starts; a bad one is named with its variable."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from pydantic import ValidationError

from watchroster.core.config import Settings, SettingsError, get_settings
from watchroster.core.settings_values import describe_errors


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def problems(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return describe_errors(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("trusted_proxies", "10.0.0.1, 10.0.0.300", "'10.0.0.300' is not an IP address"),
        ("trusted_proxies", "10.0.0.0/8;172.16.0.0/12", "is not an IP address or network"),
        ("default_region", "ZZ", "'ZZ' is not a region code"),
        ("otp_allowed_regions", "ZA, SA1", "'SA1' is not a region code"),
        ("otp_allowed_regions", " , ", "at least one region code"),
        ("reminder_lead_hours", "24,1.5", "whole hours ≥ 1, got '1.5'"),
        ("reminder_lead_hours", "0", "whole hours ≥ 1, got '0'"),
        ("coverage_alert_time", "8am", "'8am' is not a time of day written HH:MM"),
        ("coverage_alert_time", "24:00", "'24:00' is not a time of day"),
        ("coverage_alert_time", "08:00:30", "is not a time of day written HH:MM"),
        ("twilio_base_url", "api.twilio.com", "is not an http(s) URL with a host"),
        ("whatsapp_base_url", "ftp://graph.facebook.com", "is not an http(s) URL"),
        ("whatsapp_api_version", "21", "'21' is not a Graph API version"),
        ("database_url", "mysql://db/roster", "unsupported database 'mysql'"),
        ("database_url", "watchroster.db", "not a database URL"),
        ("port", "80a", "valid integer"),
        ("log_format", "xml", "'plain' or 'json'"),
    ],
)
def test_a_bad_value_is_named_with_its_variable(field: str, value: str, reason: str) -> None:
    message = problems(**{field: value})
    assert f"WATCHROSTER_{field.upper()}: " in message
    assert reason in message


def test_admin_phones_are_checked_in_the_default_region_without_echoing_a_number() -> None:
    assert settings(admin_phones="082 123 4567, +27821234568").admin_phones
    message = problems(admin_phones="082 123 4567, 0821")
    assert "WATCHROSTER_ADMIN_PHONES: entry 2 is not a valid phone number" in message
    assert "0821" not in message
    # The same national number is valid in the region it is read in, and only there.
    assert settings(default_region="GB", admin_phones="07400 123456").admin_phones
    assert "ADMIN_PHONES" in problems(default_region="GB", admin_phones="082 123 4567")


def test_every_bad_setting_is_reported_at_once() -> None:
    message = problems(coverage_alert_time="25:00", trusted_proxies="proxy.local", port=0)
    assert message.count("\n  WATCHROSTER_") == 3


def test_good_values_are_kept_and_parsed_the_same_way_by_their_users() -> None:
    good = settings(
        trusted_proxies="10.0.0.1, 2001:db8::/32",
        default_region="gb",
        otp_allowed_regions="za, gb",
        reminder_lead_hours="2, 24",
        coverage_alert_time="07:30",
        whatsapp_base_url="http://127.0.0.1:9000",
        database_url="postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    assert good.default_region == "GB"
    assert good.otp_allowed_regions == "ZA,GB"
    from watchroster.bookings.jobs import reminder_leads
    from watchroster.http.client_ip import parse_trusted_proxies

    assert [str(net) for net in parse_trusted_proxies(good.trusted_proxies)] == [
        "10.0.0.1/32",
        "2001:db8::/32",
    ]
    assert reminder_leads(good.reminder_lead_hours) == [24, 2]
    assert settings(otp_allowed_regions="*").otp_allowed_regions == "*"
    assert time.fromisoformat(good.coverage_alert_time) == time(7, 30)


def test_a_password_in_a_bad_database_url_is_not_repeated() -> None:
    message = problems(database_url="mysql://roster:hunter2@db.example/roster")
    assert "WATCHROSTER_DATABASE_URL: unsupported database 'mysql'" in message
    assert "hunter2" not in message


def test_get_settings_raises_a_settings_error_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file here
    monkeypatch.setenv("WATCHROSTER_COVERAGE_ALERT_TIME", "8:00")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="WATCHROSTER_COVERAGE_ALERT_TIME: '8:00'"):
            get_settings()
        monkeypatch.setenv("WATCHROSTER_COVERAGE_ALERT_TIME", "08:00")
        get_settings.cache_clear()
        assert get_settings().coverage_alert_time == "08:00"
    finally:
        get_settings.cache_clear()
