"""Request and response shapes for cancelled shifts (`/schedules/{id}/exceptions`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from watchroster.core.fields import Instant, Line
from watchroster.core.timefmt import INSTANT_PATTERN, to_rfc3339
from watchroster.schedules.models import Schedule, ScheduleException

# It goes into an SMS to every volunteer on the shift: one line, short.
Reason = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class ExceptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"start": "2026-12-04T18:00:00+02:00", "reason": "Storm warning"}]
        },
    )

    start: str = Field(
        max_length=64,
        description="RFC 3339 start of the occurrence to cancel; any UTC offset naming it.",
        json_schema_extra={"pattern": INSTANT_PATTERN, "format": "date-time"},
    )
    reason: Reason = Field(description="Told to everyone booked on the shift.")


class ExceptionOut(BaseModel):
    exception_id: int
    schedule_id: int
    start_time: Instant = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: Instant
    reason: str
    created_by: int = Field(description="user_id of the coordinator who cancelled it.")
    created_at: Instant

    @classmethod
    def of(cls, exception: ScheduleException, schedule: Schedule) -> ExceptionOut:
        zone = ZoneInfo(schedule.timezone)
        start = exception.shift_start
        return cls(
            exception_id=exception.exception_id,
            schedule_id=exception.schedule_id,
            start_time=to_rfc3339(start, zone),
            end_time=to_rfc3339(start + timedelta(minutes=schedule.duration_minutes), zone),
            reason=exception.reason,
            created_by=exception.created_by_user_id,
            created_at=to_rfc3339(exception.created_at),
        )


class ShiftCancelOut(ExceptionOut):
    canceled_booking_ids: list[int] = Field(
        description="Bookings of the shift, cancelled by this request (their people were told)."
    )
