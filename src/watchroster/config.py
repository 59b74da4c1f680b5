"""Settings, read from `WATCHROSTER_*` environment variables (and an optional `.env` file).

Development defaults let `make run` work with no configuration at all. Production refuses to start
while any of those defaults would be unsafe, and names the setting to fix.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105 - refused in production

Environment = Literal["development", "production"]
MessageBackend = Literal["console", "file", "twilio", "whatsapp"]


class UnsafeSettingsError(ValueError):
    """Raised when production would start with an unsafe default."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WATCHROSTER_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = "development"
    database_url: str = "sqlite:///./watchroster.db"
    timezone: str = "Africa/Johannesburg"
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"
    # Bodies larger than this get 413 before any parsing happens.
    max_body_bytes: int = 64 * 1024

    # --- messages (outbox) ---
    message_backend: MessageBackend = "console"
    # Extra channel used as the fallback for WhatsApp (e.g. "twilio" while the main backend is
    # "whatsapp"); empty means no fallback.
    sms_fallback_backend: Literal["", "twilio"] = ""
    message_file: Path = Path("messages.jsonl")
    allow_dev_message_backend: bool = False
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=1.0)
    outbox_batch_size: int = Field(default=20, ge=1, le=500)
    outbox_backoff_base_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    provider_timeout_seconds: float = Field(default=10.0, gt=0)

    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_base_url: str = "https://api.twilio.com"

    whatsapp_token: SecretStr = SecretStr("")
    whatsapp_phone_number_id: str = ""
    whatsapp_api_version: str = "v21.0"
    whatsapp_base_url: str = "https://graph.facebook.com"
    whatsapp_otp_template: str = "login_code"
    whatsapp_message_template: str = "watchroster_notice"
    whatsapp_template_language: str = "en"

    # --- login ---
    default_region: str = "ZA"
    otp_allowed_regions: str = "ZA"
    admin_phones: str = ""
    otp_ttl_seconds: int = Field(default=600, ge=60, le=600)
    otp_max_attempts: int = Field(default=5, ge=1)
    otp_resend_seconds: int = Field(default=60, ge=0)
    otp_max_per_phone_hour: int = Field(default=5, ge=1)
    otp_max_per_ip_hour: int = Field(default=20, ge=1)
    verify_max_per_ip_hour: int = Field(default=60, ge=1)
    session_ttl_days: int = Field(default=30, ge=1, le=365)
    trusted_proxies: str = ""

    # --- bookings and scheduled messages ---
    reminder_lead_hours: str = "24,2"
    coverage_alert_time: str = "08:00"
    coverage_alert_hours: int = Field(default=48, ge=1, le=336)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @staticmethod
    def split_list(value: str) -> list[str]:
        return [item.strip() for item in value.split(",") if item.strip()]

    def check_production_safety(self) -> None:
        """Refuse unsafe defaults in production; the message names every setting to fix."""
        if self.env != "production":
            return
        problems: list[str] = []
        secret = self.secret_key.get_secret_value()
        if secret == DEV_SECRET_KEY or len(secret) < 32:
            problems.append(
                "WATCHROSTER_SECRET_KEY must be set to a random value of 32+ characters"
            )
        if self.message_backend in ("console", "file") and not self.allow_dev_message_backend:
            problems.append(
                f"WATCHROSTER_MESSAGE_BACKEND={self.message_backend} does not deliver messages; "
                "use twilio or whatsapp (or set WATCHROSTER_ALLOW_DEV_MESSAGE_BACKEND=true)"
            )
        if problems:
            raise UnsafeSettingsError("refusing to start in production: " + "; ".join(problems))


@lru_cache
def get_settings() -> Settings:
    return Settings()
