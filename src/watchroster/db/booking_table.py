"""The bookings table: which seat of which shift someone holds.

Declared below the features because two of them read it. The schedules feature asks which
occurrences still have a free seat (open shifts) and whether a schedule may lose seats or be
deleted; the bookings feature writes it and owns every rule about it (`bookings.create`,
`bookings.service`). Declaring the row here, rather than in `bookings.models`, is what lets
schedules sit below bookings without an import cycle (`bookings.models` re-exports it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db.engine import Base, UTCDateTime, utcnow

_OVERLAP_COLUMNS = ("shift_start", "shift_end", "canceled_at")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # Two people can never hold one seat of a slot: the database says so, not a read before
        # the write (`bookings.create` takes the lowest free seat, 1..schedule.seats).
        # Cancelled rows stay for history, so the rule covers active bookings only.
        Index(
            "uq_bookings_active_slot",
            "schedule_id",
            "shift_start",
            "seat",
            unique=True,
            sqlite_where=text("canceled_at IS NULL"),
            postgresql_where=text("canceled_at IS NULL"),
        ),
        Index("ix_bookings_shift_start", "shift_start"),
        # Overlap checks (`bookings.busy`) read these indexes alone (migration 0010).
        Index("ix_bookings_user_shift", "user_id", *_OVERLAP_COLUMNS),
        Index("ix_bookings_buddy_user_id", "buddy_user_id", *_OVERLAP_COLUMNS),
        CheckConstraint("seat >= 1", name="seat"),
    )

    booking_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.schedule_id"))
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime)
    shift_end: Mapped[datetime] = mapped_column(UTCDateTime)
    buddy_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    buddy_name: Mapped[str | None] = mapped_column(String(100))
    buddy_phone: Mapped[str | None] = mapped_column(String(20))
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    buddy_attended: Mapped[bool | None] = mapped_column(Boolean)
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a coordinator cancelled the booking: the whole shift (`bookings.shift_cancel`, with
    # the reason the volunteer was told) or this one booking (`DELETE /bookings/{id}` by an admin,
    # no reason). None for a volunteer's own cancellation, which attendance may count as late.
    canceled_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Which of the schedule's places (1..seats) this booking holds; at most `seats` volunteers
    # share a shift (issue #12 §1).
    seat: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # What a calendar feed shows as changed (issue #12 §4): `bookings.changes.touched` raises the
    # count and stamps the time; the raw INSERT of `bookings.create` leaves both to the database.
    sequence: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the one "please record your attendance" reminder was claimed (`attendance.jobs`).
    attendance_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Home safe" (`bookings.home_safe`): when and by whom; overdue_alerted_at is set by the
    # one conditional UPDATE that claims the coordinators' alert, so it goes out once.
    safe_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    safe_by: Mapped[int | None] = mapped_column(Integer)  # a user id (see migration 0005)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
