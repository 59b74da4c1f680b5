"""buddies as participants and the home-safe check

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder in the chain: filled in by the change that owns this revision


def downgrade() -> None:
    pass
