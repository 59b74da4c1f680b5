"""Request and response shapes of calls for volunteers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from watchroster.calls.service import CallView
from watchroster.core.fields import Id, Instant
from watchroster.core.timefmt import INSTANT_PATTERN, to_rfc3339


class CallCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"schedule_id": 1, "start": "2026-12-04T18:00:00+02:00"}]},
    )

    schedule_id: Id
    start: str = Field(
        max_length=64,
        description="RFC 3339 start of the open slot; any UTC offset naming the same instant.",
        json_schema_extra={"pattern": INSTANT_PATTERN, "format": "date-time"},
    )


class CallOut(BaseModel):
    call_id: int
    schedule_id: int
    schedule_name: str
    start_time: Instant = Field(description="RFC 3339 in the schedule's zone.")
    end_time: Instant = Field(description="RFC 3339 in the schedule's zone.")
    asked_at: Instant = Field(description="RFC 3339, UTC.")
    asked_by: int | None = Field(description="The coordinator's user id (null once erased).")
    asked_by_name: str | None
    recipients: int = Field(description="Messages queued.")
    skipped_capped: int = Field(
        description="Volunteers left out: they had their WATCHROSTER_VOLUNTEER_CALLS_PER_DAY."
    )
    filled: bool = Field(description="Every place of the slot has been booked since.")

    @classmethod
    def of(cls, view: CallView) -> CallOut:
        call, zone = view.call, ZoneInfo(view.timezone)
        return cls(
            call_id=call.call_id,
            schedule_id=call.schedule_id,
            schedule_name=view.schedule_name,
            start_time=to_rfc3339(call.shift_start, zone),
            end_time=to_rfc3339(call.shift_end, zone),
            asked_at=to_rfc3339(call.asked_at),
            asked_by=call.asked_by,
            asked_by_name=view.asked_by_name,
            recipients=call.recipients,
            skipped_capped=call.skipped_capped,
            filled=view.filled,
        )
