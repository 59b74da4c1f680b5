"""attendance reminders and incident review

bookings.attendance_reminded_at: when the one "please record your attendance" reminder was
claimed (`attendance.jobs`); reports.reviewed_at / reviewed_by_user_id / review_note: a
coordinator marked the report as read (`incidents.service`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watchroster.db.engine

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain nullable column: ALTER TABLE ADD COLUMN on both databases. No batch rebuild of
    # `bookings` (its partial unique index must not go through a table copy here).
    op.add_column(
        "bookings",
        sa.Column(
            "attendance_reminded_at",
            watchroster.db.engine.UTCDateTime(timezone=True),
            nullable=True,
        ),
    )
    # A foreign key: SQLite needs the batch (copy-and-move) form; `reports` has plain indexes.
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reviewed_at", watchroster.db.engine.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("reviewed_by_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reports_reviewed_by_user_id_users"),
            "users",
            ["reviewed_by_user_id"],
            ["user_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reports_reviewed_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("review_note")
        batch_op.drop_column("reviewed_by_user_id")
        batch_op.drop_column("reviewed_at")
    op.drop_column("bookings", "attendance_reminded_at")
