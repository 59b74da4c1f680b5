"""Request and response shapes of bookings and incident reports.

Request models list the writable fields and nothing else (`extra="forbid"`): `user_id`,
`attended` and the like on create are refused with 400, never silently applied or dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from watchroster.bookings.models import BookingFields, Report, ShiftSchedule
from watchroster.core.fields import Id, Instant, Line, MultilineText
from watchroster.core.timefmt import INSTANT_PATTERN, to_rfc3339

MAX_PAGE = 200
DEFAULT_PAGE = 50
# An offset past any real history; keeps absurd values out of the SQL.
MAX_OFFSET = 10_000_000
SEVERITIES = (0, 1, 2)


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


class BookingCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"schedule_id": 1, "start_time": "2026-12-04T18:00:00+02:00", "buddy_name": "Sipho"}
            ]
        },
    )

    schedule_id: Id
    start_time: str = Field(
        max_length=64,
        description="RFC 3339 start of the occurrence; any UTC offset naming the same instant.",
        json_schema_extra={"pattern": INSTANT_PATTERN, "format": "date-time"},
    )
    buddy_phone: Line | None = Field(default=None, max_length=32)
    buddy_name: Line | None = Field(default=None, max_length=100)
    buddy_user_id: Id | None = None

    _names = field_validator("buddy_name", "buddy_phone")(_blank_to_none)


class AttendanceUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"attended": True, "buddy_attended": True}]}
    )

    # Optional so the registered buddy can record their own alone (`buddy_attended`); the
    # volunteer and admins may give either or both. At least one.
    attended: StrictBool | SkipJsonSchema[None] = Field(
        default=None,
        description="The volunteer's own; not for the registered buddy. Omitted: unchanged.",
    )
    buddy_attended: StrictBool | None = Field(
        default=None, description="Only for bookings with a buddy; omitted leaves it unchanged."
    )

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.attended is None and self.buddy_attended is None:
            raise ValueError("give attended, buddy_attended or both")
        return self


class ReportCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"severity": 1, "message": "Gate on 5th Ave left open"}]},
    )

    # The range is checked by the service so the error reads exactly "severity must be 0, 1 or 2".
    severity: StrictInt = Field(json_schema_extra={"enum": list(SEVERITIES)})
    message: MultilineText = Field(min_length=1, max_length=4000)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        return value


class ReportOut(BaseModel):
    report_id: int
    booking_id: int
    user_id: int
    severity: int
    message: str
    created_at: Instant = Field(description="RFC 3339, UTC.")
    alert_suppressed: bool = Field(
        description="A serious report past the alert caps: stored, no alert sent (issue #21)."
    )

    @classmethod
    def of(cls, report: Report) -> ReportOut:
        return cls(
            report_id=report.report_id,
            booking_id=report.booking_id,
            user_id=report.user_id,
            severity=report.severity,
            message=report.message,
            created_at=to_rfc3339(report.created_at),
            alert_suppressed=report.alert_suppressed,
        )


def shown_buddy_name(booking: BookingFields) -> str | None:
    """The buddy's name as responses, pages and texts show it: a registered member's first name
    only (naming a member must not reveal their full name, issue #9); an unregistered buddy's
    name as the volunteer typed it."""
    if booking.buddy_user_id is None:
        return booking.buddy_name
    return first_name(booking.buddy_name)


def first_name(name: str | None) -> str | None:
    """`"Sipho Dlamini"` → `"Sipho"`."""
    words = name.split() if name else []
    return words[0] if words else None


def _utc(value: datetime | None) -> str | None:
    return None if value is None else to_rfc3339(value)


# Who cancelled, without naming the coordinator to the volunteer or buddy reading it.
CanceledBy = Literal["volunteer", "coordinator"]


def canceled_by(booking: BookingFields) -> CanceledBy | None:
    """The column is set only for a coordinator's decision (`service.cancel_booking` leaves it
    empty when the volunteer cancels their own, as erasing an account does)."""
    if booking.canceled_at is None:
        return None
    return "volunteer" if booking.canceled_by_user_id is None else "coordinator"


class BookingOut(BaseModel):
    booking_id: int
    user_id: int
    schedule_id: int
    schedule_name: str
    start_time: Instant = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: Instant
    buddy_user_id: int | None
    buddy_name: str | None
    attended: bool
    buddy_attended: bool | None
    attendance_recorded_at: Instant | None = Field(description="RFC 3339, UTC; null: not recorded.")
    canceled_at: Instant | None
    canceled_by: CanceledBy | None = Field(
        description="volunteer: the booking's own volunteer (or their account was erased); "
        "coordinator: a coordinator cancelled it or its shift. Null while it stands."
    )
    cancel_reason: str | None = Field(description="The coordinator's reason, when one was given.")
    created_at: Instant
    seat: int = Field(default=1, description="Which of the shift's seats (1..seats) it holds.")
    safe_at: Instant | None = Field(
        default=None, description='RFC 3339, UTC: when someone on the shift said "home safe".'
    )
    safe_by: int | None = Field(default=None, description='Who said "home safe" (a user id).')

    @classmethod
    def of(cls, booking: BookingFields, schedule: ShiftSchedule) -> Self:
        zone = ZoneInfo(schedule.timezone)
        return cls(
            booking_id=booking.booking_id,
            user_id=booking.user_id,
            schedule_id=booking.schedule_id,
            schedule_name=schedule.name,
            start_time=to_rfc3339(booking.shift_start, zone),
            end_time=to_rfc3339(booking.shift_end, zone),
            buddy_user_id=booking.buddy_user_id,
            buddy_name=shown_buddy_name(booking),
            attended=booking.attended,
            buddy_attended=booking.buddy_attended,
            attendance_recorded_at=_utc(booking.attendance_recorded_at),
            canceled_at=_utc(booking.canceled_at),
            canceled_by=canceled_by(booking),
            cancel_reason=booking.cancel_reason,
            created_at=to_rfc3339(booking.created_at),
            seat=booking.seat,
            safe_at=_utc(booking.safe_at),
            safe_by=booking.safe_by,
        )


# Declared boolean: the field is left out, never null, when the booking names no buddy.
BuddyNotified = Annotated[bool | None, WithJsonSchema({"type": "boolean"})]


class BookingCreated(BookingOut):
    """The answer to POST /bookings: the booking, and whether its buddy was told."""

    buddy_notified: BuddyNotified = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description=(
            "Only when a buddy is named: whether a notice was queued for them. False when the "
            "buddy is not a registered, active member, their number is outside the allowed "
            "regions, or you reached your daily number of notices to other people."
        ),
    )

    @classmethod
    def of_new(
        cls, booking: BookingFields, schedule: ShiftSchedule, buddy_notified: bool | None
    ) -> BookingCreated:
        created = cls.of(booking, schedule)
        created.buddy_notified = buddy_notified
        return created


class BookingDetail(BookingOut):
    reports: list[ReportOut]


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class ReportPage(BaseModel):
    items: list[ReportOut]
    next_offset: int | None


# --- buddies as participants, home safe (issue #12 §3, §5) ----------------------------------

_BUDDY_FIELDS = ("buddy_user_id", "buddy_phone", "buddy_name")


class BuddyChange(BaseModel):
    """The new buddy, named as at booking time; all three absent or null removes the buddy."""

    buddy_phone: Line | None = Field(default=None, max_length=32)
    buddy_name: Line | None = Field(default=None, max_length=100)
    buddy_user_id: Id | None = None

    _names = field_validator("buddy_name", "buddy_phone")(_blank_to_none)


class BookingUpdate(AttendanceUpdate):
    """PATCH /bookings/{id}: attendance (after the start) or a new buddy (before it), not both.

    Any buddy field replaces the buddy as a whole (the fields not given are cleared)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"attended": True, "buddy_attended": True}, {"buddy_user_id": 7}]
        },
    )

    buddy_phone: Line | None = Field(default=None, max_length=32)
    buddy_name: Line | None = Field(default=None, max_length=100)
    buddy_user_id: Id | None = None

    _names = field_validator("buddy_name", "buddy_phone")(_blank_to_none)

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        buddy = any(name in value for name in _BUDDY_FIELDS)
        if buddy and ("attended" in value or "buddy_attended" in value):
            raise ValueError("change either the attendance or the buddy, not both at once")
        return value

    @model_validator(mode="after")
    def _something(self) -> Self:  # replaces the base class's check: a buddy change is enough
        if not self.changes_buddy and self.attended is None and self.buddy_attended is None:
            raise ValueError("give attended, buddy_attended or both, or buddy fields")
        return self

    @property
    def changes_buddy(self) -> bool:
        return any(name in self.model_fields_set for name in _BUDDY_FIELDS)

    def buddy_change(self) -> BuddyChange:
        return BuddyChange(
            buddy_phone=self.buddy_phone,
            buddy_name=self.buddy_name,
            buddy_user_id=self.buddy_user_id,
        )

    def attendance(self) -> AttendanceUpdate:
        return AttendanceUpdate(attended=self.attended, buddy_attended=self.buddy_attended)


class BookingChanged(BookingOut):
    """The answer to PATCH /bookings/{id}: the booking, and (after a change of buddy naming
    one) whether the new buddy was told."""

    buddy_notified: BuddyNotified = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Only after a change of buddy naming one: whether a notice was queued.",
    )
