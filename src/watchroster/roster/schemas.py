"""Response shapes of the roster API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from watchroster.core.fields import Instant
from watchroster.roster.service import Count, Day, Roster, Slot


class VolunteerOut(BaseModel):
    seat: int
    name: str | None = Field(description="First name; null for an erased account.")
    buddy: str | None = Field(description="The buddy's first name, if any.")


class RosterSlotOut(BaseModel):
    schedule_id: int
    schedule_name: str
    start_time: Instant = Field(description="RFC 3339 with the schedule's local offset.")
    end_time: Instant
    seats: int = Field(description="Places in this shift.")
    filled: int
    volunteers: list[VolunteerOut]
    gap: bool = Field(description="A place is still open (never for a cancelled shift).")
    cancelled: str | None = Field(description="Why a coordinator cancelled it; null if held.")

    @classmethod
    def of(cls, slot: Slot) -> RosterSlotOut:
        return cls(
            schedule_id=slot.schedule_id,
            schedule_name=slot.schedule_name,
            start_time=slot.start.isoformat(),
            end_time=slot.end.isoformat(),
            seats=slot.seats,
            filled=slot.filled,
            volunteers=[
                VolunteerOut(seat=p.seat, name=p.volunteer, buddy=p.buddy) for p in slot.places
            ],
            gap=slot.gap,
            cancelled=slot.cancelled,
        )


class FilledOut(BaseModel):
    """ "N of M filled" for one schedule."""

    schedule_id: int
    schedule_name: str
    filled: int
    places: int

    @classmethod
    def of(cls, count: Count) -> FilledOut:
        return cls(
            schedule_id=count.schedule_id,
            schedule_name=count.schedule_name,
            filled=count.filled,
            places=count.places,
        )


class RosterDayOut(BaseModel):
    date: dt.date = Field(description="Local date in WATCHROSTER_TIMEZONE.")
    filled: int
    places: int
    schedules: list[FilledOut]
    slots: list[RosterSlotOut]

    @classmethod
    def of(cls, day: Day) -> RosterDayOut:
        return cls(
            date=day.day,
            filled=day.filled,
            places=day.places,
            schedules=[FilledOut.of(count) for count in day.counts],
            slots=[RosterSlotOut.of(slot) for slot in day.slots],
        )


class RosterOut(BaseModel):
    start: dt.date
    end: dt.date = Field(description="Last date (inclusive).")
    days: list[RosterDayOut]
    schedules: list[FilledOut] = Field(description="Per schedule over all the days.")

    @classmethod
    def of(cls, roster: Roster) -> RosterOut:
        return cls(
            start=roster.first,
            end=roster.last,
            days=[RosterDayOut.of(day) for day in roster.days],
            schedules=[FilledOut.of(count) for count in roster.totals],
        )
