"""The rules and limits the use cases read, built once from the settings with the application
context (`runtime.context.AppContext.rules`).

No service has a default for them: a caller that forgot them would otherwise run with the
settings' class defaults (the allowed regions, the caps, the default language) instead of the
deployment's, silently. One place builds them, every caller passes the context's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from watchroster.core.config import Settings


@dataclass(frozen=True, slots=True)
class BuddyRules:
    """Limits on buddies, and what rides along to the notices they get."""

    notices_per_day: int  # WATCHROSTER_BUDDY_NOTICES_PER_DAY
    lookups_per_day: int  # WATCHROSTER_BUDDY_LOOKUPS_PER_DAY
    allowed_regions: str  # WATCHROSTER_OTP_ALLOWED_REGIONS: no message to other countries
    # Not a limit: members who chose no language get their notices in it.
    default_language: str
    default_region: str  # buddy numbers written in national format are of this region

    @classmethod
    def of(cls, settings: Settings) -> BuddyRules:
        return cls(
            notices_per_day=settings.buddy_notices_per_day,
            lookups_per_day=settings.buddy_lookups_per_day,
            allowed_regions=settings.otp_allowed_regions,
            default_language=settings.default_language,
            default_region=settings.default_region,
        )


@dataclass(frozen=True, slots=True)
class CallRules:
    """What a call for volunteers reads."""

    per_day: int  # WATCHROSTER_VOLUNTEER_CALLS_PER_DAY
    zone: ZoneInfo  # the group's zone: what "a day" means for the cap
    allowed_regions: str
    default_language: str
    public_url: str

    @classmethod
    def of(cls, settings: Settings) -> CallRules:
        return cls(
            per_day=settings.volunteer_calls_per_day,
            zone=settings.zone,
            allowed_regions=settings.otp_allowed_regions,
            default_language=settings.default_language,
            public_url=settings.public_url,
        )


@dataclass(frozen=True, slots=True)
class AlertRules:
    """What the coordinators' alert of a serious report reads."""

    per_day: int  # WATCHROSTER_URGENT_ALERTS_PER_DAY, per reporter in any 24 h
    booking_spacing: timedelta  # WATCHROSTER_URGENT_ALERT_BOOKING_MINUTES
    public_url: str  # the alert links to the report in the console
    default_language: str  # coordinators who chose no language read this one

    @classmethod
    def of(cls, settings: Settings) -> AlertRules:
        return cls(
            per_day=settings.urgent_alerts_per_day,
            booking_spacing=timedelta(minutes=settings.urgent_alert_booking_minutes),
            public_url=settings.public_url,
            default_language=settings.default_language,
        )


@dataclass(frozen=True, slots=True)
class Rules:
    """All of them, as the application context carries them."""

    buddy: BuddyRules
    calls: CallRules
    alerts: AlertRules

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(BuddyRules.of(settings), CallRules.of(settings), AlertRules.of(settings))
