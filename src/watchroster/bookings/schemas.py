"""Request and response shapes of bookings and incident reports.

Request models list the writable fields and nothing else (`extra="forbid"`): `user_id`,
`attended` and the like on create are refused with 400, never silently applied or dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from watchroster.bookings.models import BookingFields, Report, ShiftSchedule
from watchroster.timefmt import to_rfc3339

# Ids are 32-bit in the database; larger values would fail inside the driver instead of as a 400.
MAX_ID = 2**31 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
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
    model_config = ConfigDict(extra="forbid")

    schedule_id: DbId
    start_time: str = Field(
        max_length=64,
        description="RFC 3339 start of the occurrence; any UTC offset naming the same instant.",
    )
    buddy_phone: str | None = Field(default=None, max_length=32)
    buddy_name: str | None = Field(default=None, max_length=100)
    buddy_user_id: DbId | None = None

    _names = field_validator("buddy_name", "buddy_phone")(_blank_to_none)


class AttendanceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attended: StrictBool
    buddy_attended: StrictBool | None = Field(
        default=None, description="Only for bookings with a buddy; omitted leaves it unchanged."
    )


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The range is checked by the service so the error reads exactly "severity must be 0, 1 or 2".
    severity: StrictInt = Field(json_schema_extra={"enum": list(SEVERITIES)})
    message: str = Field(min_length=1, max_length=4000)

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
    created_at: str = Field(description="RFC 3339, UTC.")

    @classmethod
    def of(cls, report: Report) -> ReportOut:
        return cls(
            report_id=report.report_id,
            booking_id=report.booking_id,
            user_id=report.user_id,
            severity=report.severity,
            message=report.message,
            created_at=to_rfc3339(report.created_at),
        )


def _utc(value: datetime | None) -> str | None:
    return None if value is None else to_rfc3339(value)


class BookingOut(BaseModel):
    booking_id: int
    user_id: int
    schedule_id: int
    schedule_name: str
    start_time: str = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: str
    buddy_user_id: int | None
    buddy_name: str | None
    attended: bool
    buddy_attended: bool | None
    attendance_recorded_at: str | None = Field(description="RFC 3339, UTC; null: not recorded.")
    canceled_at: str | None
    created_at: str

    @classmethod
    def of(cls, booking: BookingFields, schedule: ShiftSchedule) -> BookingOut:
        zone = ZoneInfo(schedule.timezone)
        return cls(
            booking_id=booking.booking_id,
            user_id=booking.user_id,
            schedule_id=booking.schedule_id,
            schedule_name=schedule.name,
            start_time=to_rfc3339(booking.shift_start, zone),
            end_time=to_rfc3339(booking.shift_end, zone),
            buddy_user_id=booking.buddy_user_id,
            buddy_name=booking.buddy_name,
            attended=booking.attended,
            buddy_attended=booking.buddy_attended,
            attendance_recorded_at=_utc(booking.attendance_recorded_at),
            canceled_at=_utc(booking.canceled_at),
            created_at=to_rfc3339(booking.created_at),
        )


class BookingDetail(BookingOut):
    reports: list[ReportOut]


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class ReportPage(BaseModel):
    items: list[ReportOut]
    next_offset: int | None
