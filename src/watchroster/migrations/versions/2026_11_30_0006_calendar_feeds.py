"""calendar feeds: per-user secret calendar tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watchroster.db.engine

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One live calendar link per user: resetting replaces the row's contents.
    op.create_table(
        "calendar_tokens",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("created_at", watchroster.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_calendar_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_tokens_token_hash")),
    )
    # Plain ADD COLUMN (no batch rebuild on SQLite): constant server defaults are allowed, and
    # the raw INSERT of the booking hot path (bookings/create.py) relies on them.
    op.add_column(
        "bookings", sa.Column("sequence", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "bookings",
        sa.Column("changed_at", watchroster.db.engine.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("changed_at")
        batch_op.drop_column("sequence")
    op.drop_table("calendar_tokens")
