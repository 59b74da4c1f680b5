"""Request and response shapes for schedules and open shifts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from watchroster.core.fields import Day, Instant, Name
from watchroster.core.settings_values import check_holiday_country
from watchroster.core.timefmt import check_zone
from watchroster.schedules.cron import CronError, parse_cron

MAX_DURATION_MINUTES = 24 * 60
Duration = Annotated[
    int,
    Field(gt=0, le=MAX_DURATION_MINUTES, description="Shift length in minutes (1..1440)."),
]
MAX_SEATS = 50
# Strict: the schema says integer, so "3" or 2.0 is a 400 like any other type mismatch.
Seats = Annotated[
    StrictInt,
    Field(ge=1, le=MAX_SEATS, description="Volunteers per shift (1..50); each booking takes one."),
]

# The home-safe check (issue #12 §5): under 5 minutes nobody can reach home; over a day the
# alert is no longer about getting home. Strict: "30" is a 400 like any type mismatch.
CheckInMinutes = Annotated[
    StrictInt,
    Field(
        ge=5,
        le=1440,
        description='Minutes after a shift ends by which someone on it must say "home safe", '
        "else the coordinators are alerted (5..1440); null or omitted: no check.",
    ),
]


def _check_cron(value: str) -> str:
    value = " ".join(value.split())
    try:
        parse_cron(value)
    except CronError as exc:
        raise ValueError(f"invalid cron expression: {exc}") from exc
    return value


def _check_zone(value: str) -> str:
    return check_zone(value)


# Checked against the `holidays` package's countries here; a subdivision against its country in
# `schedules.holidays.check_rule` (the country may be the default, known only to the service).
HolidayCountry = Annotated[
    str,
    Field(min_length=2, max_length=8, description="ISO 3166 country code, e.g. ZA."),
    AfterValidator(check_holiday_country),
]
HolidaySubdivision = Annotated[
    str,
    Field(
        min_length=1,
        max_length=16,
        description="A subdivision code of holiday_country as the `holidays` package names it"
        " (e.g. BY for Bavaria); omitted: the whole country.",
    ),
]


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
    seats: int
    skip_holidays: bool
    holiday_country: str
    holiday_subdivision: str | None
    check_in_minutes: int | None = Field(
        default=None, description="Home-safe check: minutes after the end; null: off."
    )


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
                    "seats": 2,
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
    seats: Seats = 1
    skip_holidays: StrictBool = Field(
        default=False, description="Public holidays (holiday_country) are not offered."
    )
    holiday_country: HolidayCountry | None = Field(
        default=None, description="ISO 3166 country code; defaults to WATCHROSTER_HOLIDAY_COUNTRY."
    )
    holiday_subdivision: HolidaySubdivision | None = None
    check_in_minutes: CheckInMinutes | None = None

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


# Updatable but never null (400), so `null` is left out of the documented schema.
_NOT_NULL = (
    "name",
    "cron_expr",
    "timezone",
    "duration_minutes",
    "active",
    "seats",
    "skip_holidays",
    "holiday_country",
    "on_booked",
)

# What to do with bookings of upcoming shifts an update drops (issue #21 §1): omitted, the
# update is refused (409 bookings_affected, naming them); "cancel" cancels them and tells
# everyone on them. Not a column: `service.update_schedule` leaves it out of the row.
OnBooked = Literal["cancel"]


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
    # Lowering it below the seats an upcoming shift already has booked is refused (409).
    seats: Seats | SkipJsonSchema[None] = None
    skip_holidays: StrictBool | SkipJsonSchema[None] = None
    holiday_country: HolidayCountry | SkipJsonSchema[None] = None
    holiday_subdivision: HolidaySubdivision | None = None  # null: the whole country
    check_in_minutes: CheckInMinutes | None = None  # null: no home-safe check
    on_booked: OnBooked | SkipJsonSchema[None] = Field(
        default=None,
        description='"cancel": bookings of upcoming shifts this change drops (no longer a shift'
        " of the schedule) are cancelled and everyone on them told; omitted: such a change is"
        " refused (409 bookings_affected).",
    )

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
        for field in _NOT_NULL:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class SeatHolder(BaseModel):
    seat: int = Field(description="1..seats")
    first_name: str | None


class SlotOut(BaseModel):
    schedule_id: int
    schedule_name: str
    start_time: Instant = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: Instant
    available: bool = Field(description="True while seats_left > 0.")
    seats: int = Field(description="Volunteers this shift takes (the schedule's seats).")
    seats_left: int = Field(description="Seats nobody holds yet.")
    booked_by: str | None = Field(
        default=None,
        description="First name of the volunteer on the lowest taken seat (roster view only).",
    )
    holders: list[SeatHolder] | None = Field(
        default=None, description="Who holds each taken seat, by seat (roster view only)."
    )
