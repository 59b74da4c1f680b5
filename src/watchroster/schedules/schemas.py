"""Request and response shapes for schedules and open shifts."""

from __future__ import annotations

import zoneinfo
from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from watchroster.schedules.cron import CronError, parse_cron

Name = Annotated[str, Field(min_length=1, max_length=100)]
Duration = Annotated[int, Field(gt=0, le=1440, description="Shift length in minutes (1..1440).")]


def _check_cron(value: str) -> str:
    value = " ".join(value.split())
    try:
        parse_cron(value)
    except CronError as exc:
        raise ValueError(f"invalid cron expression: {exc}") from exc
    return value


def _check_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


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
    model_config = ConfigDict(extra="forbid")

    name: Name
    cron_expr: str = Field(
        max_length=120, description="5-field cron: minute hour day-of-month month day-of-week."
    )
    timezone: str | None = Field(
        default=None, description="IANA zone; defaults to WATCHROSTER_TIMEZONE."
    )
    start_date: date | None = Field(default=None, description="First local date (inclusive).")
    end_date: date | None = Field(default=None, description="Last local date (inclusive).")
    duration_minutes: Duration
    active: bool = True

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

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    cron_expr: str | None = Field(default=None, max_length=120)
    timezone: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    duration_minutes: Duration | None = None
    active: bool | None = None

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
    start_time: str = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: str
    available: bool
    booked_by: str | None = Field(
        default=None, description="First name of the volunteer (roster view only)."
    )
