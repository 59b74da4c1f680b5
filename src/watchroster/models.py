"""Imports every feature's models so `Base.metadata` is complete (for Alembic and queries)."""

from watchroster.auth.models import AuthEvent, AuthSession, LoginCode, User
from watchroster.bookings.models import Booking, Report
from watchroster.db import Base
from watchroster.outbox.models import JobRun, OutboxMessage
from watchroster.schedules.models import Schedule

__all__ = [
    "AuthEvent",
    "AuthSession",
    "Base",
    "Booking",
    "JobRun",
    "LoginCode",
    "OutboxMessage",
    "Report",
    "Schedule",
    "User",
]
