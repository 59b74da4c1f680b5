"""Bookings (a shift occurrence someone took) and the incident reports filed on them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db import Base, UTCDateTime, utcnow


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # Two people can never hold one slot: the database says so, not a read before the write.
        # Cancelled rows stay for history, so the rule covers active bookings only.
        Index(
            "uq_bookings_active_slot",
            "schedule_id",
            "shift_start",
            unique=True,
            sqlite_where=text("canceled_at IS NULL"),
            postgresql_where=text("canceled_at IS NULL"),
        ),
        Index("ix_bookings_shift_start", "shift_start"),
        Index("ix_bookings_user_shift", "user_id", "shift_start"),
    )

    booking_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.schedule_id"))
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime)
    shift_end: Mapped[datetime] = mapped_column(UTCDateTime)
    buddy_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"), index=True)
    buddy_name: Mapped[str | None] = mapped_column(String(100))
    buddy_phone: Mapped[str | None] = mapped_column(String(20))
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    buddy_attended: Mapped[bool | None] = mapped_column(Boolean)
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (CheckConstraint("severity BETWEEN 0 AND 2", name="severity"),)

    report_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.booking_id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"))
    severity: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IdempotencyKey(Base):
    """A request that may be retried (`bookings.idempotency`): what it answered, for 24 hours.

    Written in the transaction of the change it answers for, so a committed change always has
    its replay and a rolled-back one has none."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "request_key"),)

    idempotency_key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"))
    request_key: Mapped[str] = mapped_column(String(64))
    # sha256 (hex) of method, path and canonical body: the same key with another body is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class BookingFields(Protocol):
    """What a booking response and its notices read: a `Booking` row, or the plain record the
    booking hot path (`bookings.create`) builds without the ORM."""

    @property
    def booking_id(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def schedule_id(self) -> int: ...
    @property
    def shift_start(self) -> datetime: ...
    @property
    def shift_end(self) -> datetime: ...
    @property
    def buddy_user_id(self) -> int | None: ...
    @property
    def buddy_name(self) -> str | None: ...
    @property
    def buddy_phone(self) -> str | None: ...
    @property
    def attended(self) -> bool: ...
    @property
    def buddy_attended(self) -> bool | None: ...
    @property
    def attendance_recorded_at(self) -> datetime | None: ...
    @property
    def canceled_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...


class ShiftSchedule(Protocol):
    """The parts of a schedule a booking response and its notices show."""

    @property
    def name(self) -> str: ...
    @property
    def timezone(self) -> str: ...
