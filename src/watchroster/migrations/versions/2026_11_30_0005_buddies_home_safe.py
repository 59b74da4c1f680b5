"""buddies as participants and the home-safe check

schedules.check_in_minutes (NULL: no home-safe check; else 5..1440); bookings.safe_at / safe_by
(who said "home safe", when) and bookings.overdue_alerted_at (the coordinators were alerted: set
by the one conditional UPDATE that claims the alert, so it goes out once).

Plain ADD COLUMN / DROP COLUMN, no batch rebuild, on purpose: on SQLite a rebuild drops and
recreates the table, and with foreign keys on, dropping `schedules` or `bookings` while other
rows reference them fails ("FOREIGN KEY constraint failed"), i.e. on every real database. SQLite
takes a column CHECK in ADD COLUMN and drops such a column again (3.35+). For the same reason
`safe_by` carries no foreign key: a column in one could not be dropped without a rebuild; it
holds a user id, and users are never deleted (an erased account keeps its row).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watchroster.db.engine

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK_IN = "check_in_minutes IS NULL OR (check_in_minutes >= 5 AND check_in_minutes <= 1440)"


def upgrade() -> None:
    check = sa.CheckConstraint(_CHECK_IN, name=op.f("ck_schedules_check_in"))
    op.add_column("schedules", sa.Column("check_in_minutes", sa.Integer(), check, nullable=True))
    for name in ("safe_at", "overdue_alerted_at"):
        instant = watchroster.db.engine.UTCDateTime(timezone=True)
        op.add_column("bookings", sa.Column(name, instant, nullable=True))
    op.add_column("bookings", sa.Column("safe_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    for name in ("safe_by", "overdue_alerted_at", "safe_at"):
        op.drop_column("bookings", name)
    # SQLite refuses to drop a column a CHECK names: the batch rebuilds the table without both
    # (`migrate.run` turns foreign keys off for the rebuild). Elsewhere it is two ALTERs.
    with op.batch_alter_table("schedules") as batch:
        batch.drop_constraint(op.f("ck_schedules_check_in"), type_="check")
        batch.drop_column("check_in_minutes")
