"""public holidays per schedule and one-off cancelled shifts

schedules.skip_holidays / holiday_country / holiday_subdivision (`schedules.holidays`);
schedule_exceptions: one cancelled occurrence per row, unique per (schedule, shift_start);
bookings.canceled_by_user_id / cancel_reason: a coordinator cancelled the shift, and why.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watchroster.db.engine

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _configured_country() -> str:
    """WATCHROSTER_HOLIDAY_COUNTRY for the existing schedules (they skip nothing until a
    coordinator says so, but then they should name the group's country, not a guess)."""
    try:
        from watchroster.core.config import get_settings

        return get_settings().holiday_country
    except Exception:  # a migration run without valid settings keeps the default
        return "ZA"


def upgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("skip_holidays", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("holiday_country", sa.String(length=8), server_default="ZA", nullable=False)
        )
        batch_op.add_column(sa.Column("holiday_subdivision", sa.String(length=16), nullable=True))
    schedules = sa.table("schedules", sa.column("holiday_country", sa.String))
    op.execute(schedules.update().values(holiday_country=_configured_country()))

    # batch: SQLite rebuilds the table to add a foreign key.
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("canceled_by_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=300), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_bookings_canceled_by_user_id_users"),
            "users",
            ["canceled_by_user_id"],
            ["user_id"],
        )

    op.create_table(
        "schedule_exceptions",
        sa.Column("exception_id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("shift_start", watchroster.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", watchroster.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.user_id"],
            name=op.f("fk_schedule_exceptions_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.schedule_id"],
            name=op.f("fk_schedule_exceptions_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("exception_id", name=op.f("pk_schedule_exceptions")),
        sa.UniqueConstraint(
            "schedule_id",
            "shift_start",
            name=op.f("uq_schedule_exceptions_schedule_id_shift_start"),
        ),
    )
    with op.batch_alter_table("schedule_exceptions", schema=None) as batch_op:
        batch_op.create_index("ix_schedule_exceptions_shift_start", ["shift_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("schedule_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_exceptions_shift_start")
    op.drop_table("schedule_exceptions")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_bookings_canceled_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("canceled_by_user_id")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("holiday_subdivision")
        batch_op.drop_column("holiday_country")
        batch_op.drop_column("skip_holidays")
