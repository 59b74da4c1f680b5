"""Settings, read from `WATCHROSTER_*` environment variables (and an optional `.env` file).

Development defaults let `make run` work with no configuration at all. Production refuses to start
while any of those defaults would be unsafe, and names the setting to fix.
"""

from __future__ import annotations

import os
import zoneinfo
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from watchroster.core import settings_values as values
from watchroster.core.languages import Language
from watchroster.core.timefmt import check_zone

DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105 - refused in production

Environment = Literal["development", "production"]
MessageBackend = Literal["console", "file", "twilio", "whatsapp"]


MAX_WORKERS = 64


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's or `taskset`'s share, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class SettingsError(ValueError):
    """A setting that stops the process from starting; the message names the variable."""


class UnsafeSettingsError(SettingsError):
    """Raised when production would start with an unsafe default."""


# Text settings checked by a parser of `settings_values` when the process starts.
_TEXT_CHECKS = {
    "database_url": values.check_database_url,
    "default_region": values.check_region,
    "otp_allowed_regions": values.check_regions,
    "trusted_proxies": values.parse_networks,
    "reminder_lead_hours": values.parse_lead_hours,
    "coverage_alert_time": values.parse_clock_time,
    "twilio_base_url": values.check_url,
    "whatsapp_base_url": values.check_url,
    "whatsapp_api_version": values.check_api_version,
    "public_url": values.check_url,
    "holiday_country": values.check_holiday_country,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WATCHROSTER_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = "development"
    database_url: str = "sqlite:///./watchroster.db"
    timezone: str = "Africa/Johannesburg"
    # Pages when neither the profile nor the browser names a supported language; messages to a
    # member who has not chosen one.
    default_language: Language = "en"
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    host: str = "127.0.0.1"
    # Where people reach the service: links in messages and calendar URLs are built on it.
    public_url: str = "http://127.0.0.1:8000"
    port: int = Field(default=8000, ge=1, le=65535)
    # HTTP processes of `serve` (`serving`): by default one per CPU this process may use.
    workers: int = Field(default_factory=lambda: usable_cpus(), ge=1, le=MAX_WORKERS)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"
    # Bodies larger than this get 413 before any parsing happens.
    max_body_bytes: int = 64 * 1024
    # Bearer token for GET /metrics. Empty: open in development; in production only a server
    # bound to loopback answers it, and only to unproxied requests.
    metrics_token: SecretStr = SecretStr("")

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
    # Per user per day: messages to other people a user's actions may trigger (buddy notices),
    # and distinct phone numbers a user may have matched to members (issue #9). 0 turns it off.
    buddy_notices_per_day: int = Field(default=10, ge=0)
    buddy_lookups_per_day: int = Field(default=20, ge=0)
    # Serious incident reports alert the coordinators at most this often (issue #21 §2): per
    # reporter in any 24 h, and once per booking in this many minutes (0: no spacing). Reports
    # past either are kept and flagged in the inbox, unsent. At least one a day: a serious
    # report must always be able to reach someone.
    urgent_alerts_per_day: int = Field(default=3, ge=1, le=100)
    urgent_alert_booking_minutes: int = Field(default=10, ge=0, le=1440)

    # --- coordinator console ---
    # Public holidays a schedule may skip: an ISO 3166 country code the `holidays` package knows.
    # The default is known good: not checked at every start (the check imports `holidays`).
    holiday_country: str = Field(default="ZA", validate_default=False)
    # Per volunteer per day: "can you take this shift?" calls they receive at most.
    volunteer_calls_per_day: int = Field(default=2, ge=0, le=20)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator(*_TEXT_CHECKS)
    @classmethod
    def _parses(cls, value: str, info: ValidationInfo) -> str:
        checked = _TEXT_CHECKS[info.field_name](value)  # type: ignore[index]
        # Checkers that normalise (region codes upper-cased) return the text to keep.
        return checked if isinstance(checked, str) else value

    @field_validator("admin_phones")
    @classmethod
    def _valid_phones(cls, value: str, info: ValidationInfo) -> str:
        # default_region is declared earlier, so it is validated (or failed) already.
        region = info.data.get("default_region")
        return values.check_phones(value, region) if region else value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @staticmethod
    def split_list(value: str) -> list[str]:
        return values.split_list(value)

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
    """The process's settings; a bad value raises SettingsError naming each variable at fault."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(values.describe_errors(exc)) from None
