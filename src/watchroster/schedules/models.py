"""Schedule rows: the recurring definition of patrol shifts. Shift occurrences are never stored."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db.engine import Base, UTCDateTime, utcnow
from watchroster.schedules.recurrence import ScheduleRule


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration"),
        CheckConstraint(
            "start_date IS NULL OR end_date IS NULL OR start_date <= end_date", name="window"
        ),
        CheckConstraint(
            "check_in_minutes IS NULL OR (check_in_minutes >= 5 AND check_in_minutes <= 1440)",
            name="check_in",
        ),
        CheckConstraint("seats BETWEEN 1 AND 50", name="seats"),
    )

    schedule_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    cron_expr: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Volunteers per shift (issue #12 §1); each booking holds one seat, 1..seats.
    seats: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # Minutes after a shift's end by which someone on it must say "home safe", else the
    # coordinators are alerted (`bookings.home_safe`); None: no check.
    check_in_minutes: Mapped[int | None] = mapped_column(Integer)
    # Public holidays of `holiday_country` (ISO 3166, `holidays` package) and optionally one of
    # its subdivisions are not offered when `skip_holidays` (`schedules.holidays`).
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The server default is for rows written without it (bulk inserts); the service writes
    # WATCHROSTER_HOLIDAY_COUNTRY unless told otherwise.
    holiday_country: Mapped[str] = mapped_column(String(8), server_default="ZA")
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def rule(self) -> ScheduleRule:
        return ScheduleRule(
            cron_expr=self.cron_expr,
            timezone=self.timezone,
            start_date=self.start_date,
            end_date=self.end_date,
            duration_minutes=self.duration_minutes,
        )


class ScheduleException(Base):
    """One occurrence a coordinator cancelled (EXDATE-like): not offered, not bookable.

    Read a window at a time by availability (`ix_schedule_exceptions_shift_start`), so its cost
    follows the window, not the history. Deleting the row (undo) restores the slot; bookings it
    cancelled stay cancelled.
    """

    __tablename__ = "schedule_exceptions"
    __table_args__ = (
        UniqueConstraint("schedule_id", "shift_start"),
        Index("ix_schedule_exceptions_shift_start", "shift_start"),
    )

    exception_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.schedule_id", ondelete="CASCADE")
    )
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300))
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
