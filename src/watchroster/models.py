"""Imports every feature's models so `Base.metadata` is complete (for Alembic and queries)."""

from watchroster.auth.models import AuthEvent, AuthSession, LoginCode, User
from watchroster.bookings.models import Booking, Report
from watchroster.calendar.models import CalendarToken
from watchroster.calls.models import CallCount, VolunteerCall
from watchroster.db.engine import Base
from watchroster.outbox.models import JobRun, OutboxMessage
from watchroster.schedules.models import Schedule, ScheduleException

__all__ = [
    "AuthEvent",
    "AuthSession",
    "Base",
    "Booking",
    "CalendarToken",
    "CallCount",
    "JobRun",
    "LoginCode",
    "OutboxMessage",
    "Report",
    "Schedule",
    "ScheduleException",
    "User",
    "VolunteerCall",
]
