"""members known from the LMS roster (NRPS) may never have launched

Revision ID: 0006_roster_members
Revises: 0005_rombel
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_roster_members"
down_revision = "0005_rombel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("membership") as batch:
        batch.alter_column("first_launch_at", existing_type=sa.DateTime(), nullable=True)
        batch.alter_column("last_launch_at", existing_type=sa.DateTime(), nullable=True)


def downgrade() -> None:
    op.execute(
        "UPDATE membership SET first_launch_at = CURRENT_TIMESTAMP WHERE first_launch_at IS NULL"
    )
    op.execute(
        "UPDATE membership SET last_launch_at = CURRENT_TIMESTAMP WHERE last_launch_at IS NULL"
    )
    with op.batch_alter_table("membership") as batch:
        batch.alter_column("last_launch_at", existing_type=sa.DateTime(), nullable=False)
        batch.alter_column("first_launch_at", existing_type=sa.DateTime(), nullable=False)
