"""Request and response shapes for schedules and open shifts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from watchroster.fields import Day, Instant, Name
from watchroster.schedules.cron import CronError, parse_cron
from watchroster.timefmt import check_zone

Duration = Annotated[int, Field(gt=0, le=1440, description="Shift length in minutes (1..1440).")]


def _check_cron(value: str) -> str:
    value = " ".join(value.split())
    try:
        parse_cron(value)
    except CronError as exc:
        raise ValueError(f"invalid cron expression: {exc}") from exc
    return value


def _check_zone(value: str) -> str:
    return check_zone(value)


class ScheduleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    schedule_id: int
    name: str
    cron_expr: str
    timezone: str
    start_date: date | None
    end_date: date | None
    duration_minutes: int
    active: bool


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Friday evening patrol",
                    "cron_expr": "0 18 * 5-8 FRI",
                    "duration_minutes": 180,
                    "start_date": "2027-05-01",
                    "end_date": "2027-08-31",
                }
            ]
        },
    )

    name: Name
    cron_expr: str = Field(
        max_length=120, description="5-field cron: minute hour day-of-month month day-of-week."
    )
    timezone: str | None = Field(
        default=None, description="IANA zone; defaults to WATCHROSTER_TIMEZONE."
    )
    start_date: Day | None = Field(default=None, description="First local date (inclusive).")
    end_date: Day | None = Field(default=None, description="Last local date (inclusive).")
    duration_minutes: Duration
    active: StrictBool = True  # strict: the schema says boolean, so 0 or "no" is a 400

    _cron = field_validator("cron_expr")(_check_cron)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError("start_date must not be after end_date")
        return self


class ScheduleUpdate(BaseModel):
    """Only the fields given change; `null` clears a seasonal bound."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    # Optional but never null (400), so `null` is left out of the documented schema.
    name: Name | SkipJsonSchema[None] = None
    cron_expr: Annotated[str, Field(max_length=120)] | SkipJsonSchema[None] = None
    timezone: str | SkipJsonSchema[None] = None
    start_date: Day | None = None
    end_date: Day | None = None
    duration_minutes: Duration | SkipJsonSchema[None] = None
    active: StrictBool | SkipJsonSchema[None] = None

    @field_validator("cron_expr")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else _check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)

    @model_validator(mode="after")
    def _no_null_required(self) -> Self:
        for field in ("name", "cron_expr", "timezone", "duration_minutes", "active"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class SlotOut(BaseModel):
    schedule_id: int
    schedule_name: str
    start_time: Instant = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: Instant
    available: bool
    booked_by: str | None = Field(
        default=None, description="First name of the volunteer (roster view only)."
    )
