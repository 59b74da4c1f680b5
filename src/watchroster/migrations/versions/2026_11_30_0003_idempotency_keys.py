"""idempotency_keys: the stored answers of retried requests (Idempotency-Key header)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watchroster.db.engine

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table: CREATE TABLE works as is on SQLite, no batch rebuild needed.
    op.create_table(
        "idempotency_keys",
        sa.Column("idempotency_key_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", watchroster.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_idempotency_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("idempotency_key_id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "user_id", "request_key", name=op.f("uq_idempotency_keys_user_id_request_key")
        ),
    )
    # The expiry job deletes by age.
    op.create_index(
        op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
