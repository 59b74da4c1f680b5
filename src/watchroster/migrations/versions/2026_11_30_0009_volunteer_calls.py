"""calls for volunteers on a gap, and the opt-out

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watchroster.db.engine

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Everyone starts opted in (a server default, so existing rows get it too); a volunteer
    # can opt out on the profile page or with PATCH /me.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("volunteer_calls", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    # One call per slot: the unique key is what makes a second call a 409, also under a race.
    op.create_table(
        "volunteer_calls",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("shift_start", watchroster.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shift_end", watchroster.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.Column("asked_by", sa.Integer(), nullable=True),
        sa.Column("asked_at", watchroster.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("skipped_capped", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.schedule_id"],
            name=op.f("fk_volunteer_calls_schedule_id_schedules"),
        ),
        sa.ForeignKeyConstraint(
            ["asked_by"], ["users.user_id"], name=op.f("fk_volunteer_calls_asked_by_users")
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_volunteer_calls")),
        sa.UniqueConstraint(
            "schedule_id", "shift_start", name=op.f("uq_volunteer_calls_schedule_id_shift_start")
        ),
    )
    op.create_index(
        op.f("ix_volunteer_calls_shift_start"), "volunteer_calls", ["shift_start"], unique=False
    )
    # Calls each volunteer received per local day: the per-day cap is a conditional upsert on
    # this row, so two calls at once cannot both pass it.
    op.create_table(
        "volunteer_call_counts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_volunteer_call_counts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_volunteer_call_counts")),
    )


def downgrade() -> None:
    op.drop_table("volunteer_call_counts")
    op.drop_index(op.f("ix_volunteer_calls_shift_start"), table_name="volunteer_calls")
    op.drop_table("volunteer_calls")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("volunteer_calls")
