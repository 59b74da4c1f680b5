"""Response shapes of the attendance figures (`GET /attendance`)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from watchroster.attendance.service import Figures, FillRate


class VolunteerOut(BaseModel):
    user_id: int
    name: str | None = Field(description="Null once the account is erased.")
    booked: int = Field(description="Bookings still standing whose shift starts in the period.")
    attended: int
    absent: int
    not_recorded: int = Field(description="Started, and no attendance recorded.")
    canceled_late: int = Field(description="Cancelled less than 24 hours before the start.")


class FillOut(BaseModel):
    offered: int = Field(description="Places offered: occurrences × seats.")
    booked: int = Field(description="Of those, places booked.")
    fill_rate: float | None = Field(description="booked / offered, 0..1; null: none offered.")

    @classmethod
    def of(cls, fill: FillRate) -> FillOut:
        rate = None if fill.rate is None else round(fill.rate, 4)
        return cls(offered=fill.offered, booked=fill.booked, fill_rate=rate)


class ScheduleFillOut(FillOut):
    schedule_id: int
    name: str


class WeekOut(FillOut):
    first_day: date = Field(description="Local date (group zone), inclusive.")
    last_day: date = Field(description="Local date (group zone), inclusive.")


class AttendanceOut(BaseModel):
    first_day: date = Field(description="The period's first local date (group zone).")
    last_day: date = Field(description="The period's last local date, inclusive.")
    sort: str
    volunteers: list[VolunteerOut]
    schedules: list[ScheduleFillOut]
    weeks: list[WeekOut]

    @classmethod
    def of(cls, figures: Figures) -> AttendanceOut:
        return cls(
            first_day=figures.period.first,
            last_day=figures.period.last,
            sort=figures.sort,
            volunteers=[VolunteerOut(**vars(v)) for v in figures.volunteers],
            schedules=[
                ScheduleFillOut(
                    schedule_id=s.schedule_id, name=s.name, **FillOut.of(s.fill).model_dump()
                )
                for s in figures.schedules
            ],
            weeks=[
                WeekOut(first_day=w.first, last_day=w.last, **FillOut.of(w.fill).model_dump())
                for w in figures.weeks
            ],
        )
