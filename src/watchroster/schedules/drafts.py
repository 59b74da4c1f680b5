"""A schedule as the coordinator's form says it: weekdays, a start time, a duration and a season.

`ScheduleDraft` is the body of `POST /schedule-preview` and what the console's form is checked
against, so the page and the API accept and refuse exactly the same input. The form writes the
cron expression (`describe.write_cron`); the "Advanced" `cron_expr`, when given, is used as it is.
"""

from __future__ import annotations

from datetime import time
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from watchroster.core.fields import Day, Id, Instant, Name
from watchroster.core.timefmt import check_zone
from watchroster.schedules import describe, preview
from watchroster.schedules.cron import CronError, parse_cron
from watchroster.schedules.holidays import HolidayRule, check_rule
from watchroster.schedules.recurrence import ScheduleRule
from watchroster.schedules.schemas import MAX_DURATION_MINUTES

Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


class ScheduleDraft(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Friday evening patrol",
                    "weekdays": ["FRI"],
                    "start_local": "18:00",
                    "duration_minutes": 180,
                    "start_date": "2026-05-01",
                    "end_date": "2026-08-31",
                    "skip_holidays": True,
                }
            ]
        },
    )

    name: Name | None = Field(default=None, description="Checked against other active schedules.")
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7)
    # Not `start_time`: fields so named are instants (RFC 3339); this is a wall-clock time.
    start_local: str | None = Field(
        default=None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Local start time, HH:MM (24-hour).",
    )
    duration_minutes: int = Field(
        gt=0, le=MAX_DURATION_MINUTES, description="Shift length (1..1440 minutes)."
    )
    start_date: Day | None = Field(default=None, description="First local date (inclusive).")
    end_date: Day | None = Field(default=None, description="Last local date (inclusive).")
    timezone: str | None = Field(default=None, description="IANA zone; WATCHROSTER_TIMEZONE.")
    skip_holidays: StrictBool = False
    holiday_country: str | None = Field(
        default=None,
        min_length=2,
        max_length=8,
        description="ISO 3166 country code; defaults to WATCHROSTER_HOLIDAY_COUNTRY.",
    )
    holiday_subdivision: str | None = Field(
        default=None, min_length=1, max_length=16, description="e.g. BY; omitted: whole country."
    )
    cron_expr: str | None = Field(
        default=None,
        max_length=120,
        description="Advanced: a 5-field cron expression, used instead of weekdays/start_local.",
    )
    schedule_id: Id | None = Field(
        default=None, description="The schedule being edited (its own name is not a conflict)."
    )

    @field_validator("cron_expr")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        text = " ".join((value or "").split())
        if not text:
            return None
        try:
            parse_cron(text)
        except CronError as exc:
            raise ValueError(f"invalid cron expression: {exc}") from exc
        return text

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_zone(value) if value else None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.cron_expr is None and not (self.weekdays and self.start_local):
            raise ValueError("choose at least one weekday and a start time (or a cron expression)")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError("start_date must not be after end_date")
        return self

    def cron(self) -> str:
        """The cron expression the schedule stores."""
        if self.cron_expr is not None:
            return self.cron_expr
        assert self.start_local is not None  # checked by _complete
        hour, minute = map(int, self.start_local.split(":"))
        days = [describe.WEEKDAY_CODES.index(day) for day in self.weekdays]
        return describe.write_cron(days, time(hour, minute))

    def rule(self, default_timezone: str) -> ScheduleRule:
        return ScheduleRule(
            cron_expr=self.cron(),
            timezone=self.timezone or default_timezone,
            start_date=self.start_date,
            end_date=self.end_date,
            duration_minutes=self.duration_minutes,
        )

    def holiday_rule(self, default_country: str) -> HolidayRule | None:
        """Whose holidays are skipped; an unknown country or subdivision is a 400 naming it."""
        country, subdivision = check_rule(
            self.holiday_country or default_country, self.holiday_subdivision
        )
        return HolidayRule(country, subdivision) if self.skip_holidays else None

    def draft(self, default_timezone: str, default_country: str) -> preview.Draft:
        return preview.Draft(
            self.rule(default_timezone),
            self.name,
            self.holiday_rule(default_country),
            self.schedule_id,
        )


class PreviewShiftOut(BaseModel):
    start_time: Instant = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: Instant
    clock_change: str | None = Field(
        default=None, description="A daylight-saving change before or during this shift, in words."
    )


class SkippedOut(BaseModel):
    start_time: Instant = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: Instant
    reason: str = Field(description="The public holiday's name, or why it was cancelled.")


class WarningOut(BaseModel):
    code: preview.WarningCode
    message: str


class SchedulePreviewOut(BaseModel):
    cron: str = Field(description="The cron expression the schedule would store.")
    description: str = Field(description="The schedule in one sentence, in the caller's language.")
    next: list[PreviewShiftOut] = Field(description="The next 10 shifts as they will be offered.")
    skipped: list[SkippedOut] = Field(
        description="Occurrences among them that are not offered (holidays, cancelled shifts)."
    )
    warnings: list[WarningOut]

    @classmethod
    def of(cls, result: preview.Preview) -> SchedulePreviewOut:
        return cls(
            cron=result.cron,
            description=result.description,
            next=[
                PreviewShiftOut(
                    start_time=shift.start.isoformat(),
                    end_time=shift.end.isoformat(),
                    clock_change=shift.clock_change,
                )
                for shift in result.shifts
            ],
            skipped=[
                SkippedOut(
                    start_time=item.start.isoformat(),
                    end_time=item.end.isoformat(),
                    reason=item.reason,
                )
                for item in result.skipped
            ],
            warnings=[WarningOut(code=w.code, message=w.message) for w in result.warnings],
        )
