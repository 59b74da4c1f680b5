"""Schedule rows: the recurring definition of patrol shifts. Shift occurrences are never stored."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db import Base, UTCDateTime, utcnow
from watchroster.schedules.recurrence import ScheduleRule


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration"),
        CheckConstraint(
            "start_date IS NULL OR end_date IS NULL OR start_date <= end_date", name="window"
        ),
    )

    schedule_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    cron_expr: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
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
