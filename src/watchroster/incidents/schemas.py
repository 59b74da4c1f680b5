"""Request and response shapes of the incident inbox."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from watchroster.bookings.schemas import first_name, shown_buddy_name
from watchroster.core.fields import Instant, MultilineText
from watchroster.core.timefmt import to_rfc3339
from watchroster.incidents.service import MAX_NOTE, SEVERITY_WORDS, InboxItem


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "Called Thandi; the gate is fixed."}, {}]},
    )

    note: MultilineText | None = Field(default=None, max_length=MAX_NOTE)


class IncidentOut(BaseModel):
    report_id: int
    booking_id: int
    severity: int = Field(json_schema_extra={"enum": [0, 1, 2]})
    severity_words: str = Field(description="All quiet, Follow up or Serious (English).")
    message: str
    created_at: Instant = Field(description="RFC 3339, UTC.")
    schedule_id: int
    schedule_name: str
    start_time: Instant = Field(description="The shift's start, with the schedule's offset.")
    end_time: Instant
    reporter_user_id: int
    reporter_first_name: str | None
    buddy_name: str | None = Field(description="A registered buddy by first name only.")
    reviewed_at: Instant | None = Field(description="RFC 3339, UTC; null: not reviewed.")
    reviewed_by_user_id: int | None
    reviewed_by_first_name: str | None
    review_note: str | None
    alert_suppressed: bool = Field(
        description="A serious report past the alert caps: no alert was sent (issue #21)."
    )

    @classmethod
    def of(cls, item: InboxItem) -> IncidentOut:
        report, booking, schedule = item.report, item.booking, item.schedule
        zone = ZoneInfo(schedule.timezone)
        reviewed = report.reviewed_at
        return cls(
            report_id=report.report_id,
            booking_id=report.booking_id,
            severity=report.severity,
            severity_words=SEVERITY_WORDS[report.severity],
            message=report.message,
            created_at=to_rfc3339(report.created_at),
            schedule_id=schedule.schedule_id,
            schedule_name=schedule.name,
            start_time=to_rfc3339(booking.shift_start, zone),
            end_time=to_rfc3339(booking.shift_end, zone),
            reporter_user_id=report.user_id,
            reporter_first_name=first_name(item.reporter_name),
            buddy_name=shown_buddy_name(booking),
            reviewed_at=None if reviewed is None else to_rfc3339(reviewed),
            reviewed_by_user_id=report.reviewed_by_user_id,
            reviewed_by_first_name=first_name(item.reviewer_name),
            review_note=report.review_note,
            alert_suppressed=report.alert_suppressed,
        )


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")
