"""capped incident alerts (issue #21 §2)

reports.alert_suppressed: a serious report past the alert caps, stored and shown in the inbox
without a message; existing reports get false (every serious one alerted before). An index on
(user_id, created_at) for the per-reporter count the caps make at each serious report.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A NOT NULL column with a server default: existing rows get false. Batch mode, as every
    # change of `reports`; on SQLite an added column needs no table copy, so none is made.
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("alert_suppressed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_reports_user_id_created_at", ["user_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_user_id_created_at")
        batch_op.drop_column("alert_suppressed")
