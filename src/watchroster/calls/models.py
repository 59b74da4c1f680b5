"""A call for volunteers on one slot, and how many calls each volunteer got per day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db.engine import Base, UTCDateTime


class VolunteerCall(Base):
    """One per slot at most: the unique key makes a second call (also a concurrent one) fail."""

    __tablename__ = "volunteer_calls"
    __table_args__ = (UniqueConstraint("schedule_id", "shift_start"),)

    call_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.schedule_id"))
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    shift_end: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who asked (an admin); kept when that account is erased, the name goes with the person.
    asked_by: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer)  # messages queued
    skipped_capped: Mapped[int] = mapped_column(Integer)  # left out: their day's cap was reached


class CallCount(Base):
    """Calls a volunteer received on one local day (the group's zone); the cap is a conditional
    upsert of this row, never a count read before the write."""

    __tablename__ = "volunteer_call_counts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)
