"""calls for volunteers on a gap, and the opt-out

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder in the chain: filled in by the change that owns this revision


def downgrade() -> None:
    pass
