"""seats: several volunteers per shift (schedules.seats, bookings.seat)

schedules.seats (1..50, default 1: one booking per slot, as before) and bookings.seat (which place
of the slot a booking holds). The partial unique index over active bookings gains the seat, so the
database still makes over-booking impossible: at most `seats` active rows per slot, one per seat.
Existing bookings take seat 1, which the old index already made unique per slot.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("canceled_at IS NULL")


def _seat_index(columns: list[str]) -> None:
    op.create_index(
        "uq_bookings_active_slot",
        "bookings",
        columns,
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def upgrade() -> None:
    # Plain ADD COLUMN with the CHECK on the column, no batch rebuild: on SQLite a rebuild drops
    # and recreates the table, which fails with foreign keys on as soon as other rows reference
    # `schedules` or `bookings`, i.e. on every real database (as 0005 explains).
    seats_range = sa.CheckConstraint("seats BETWEEN 1 AND 50", name=op.f("ck_schedules_seats"))
    op.add_column(
        "schedules",
        sa.Column("seats", sa.Integer(), seats_range, server_default=sa.text("1"), nullable=False),
    )
    op.drop_index("uq_bookings_active_slot", table_name="bookings")
    seat_floor = sa.CheckConstraint("seat >= 1", name=op.f("ck_bookings_seat"))
    op.add_column(
        "bookings",
        sa.Column("seat", sa.Integer(), seat_floor, server_default=sa.text("1"), nullable=False),
    )
    # Same name as before: `bookings.create.is_active_slot_violation` looks for it.
    _seat_index(["schedule_id", "shift_start", "seat"])


def downgrade() -> None:
    # Fails (unique violation) while a slot has more than one active booking: going back to one
    # volunteer per shift must not silently drop anyone's booking. SQLite refuses to drop a
    # column a CHECK names, so the batch rebuilds the table without both (`migrate.run` turns
    # foreign keys off for the rebuild); on PostgreSQL these are plain ALTERs.
    op.drop_index("uq_bookings_active_slot", table_name="bookings")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint(op.f("ck_bookings_seat"), type_="check")
        batch.drop_column("seat")
    _seat_index(["schedule_id", "shift_start"])
    with op.batch_alter_table("schedules") as batch:
        batch.drop_constraint(op.f("ck_schedules_seats"), type_="check")
        batch.drop_column("seats")
