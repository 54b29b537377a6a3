"""course templates v2: block kind, length and face-to-face JP; activity completion and due day

Revision ID: 0002_template_fields
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_template_fields"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("course_block") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="sesi"))
        batch.add_column(sa.Column("weeks", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("jp_tm", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("activity") as batch:
        batch.add_column(
            sa.Column("completion", sa.String(20), nullable=False, server_default="viewed")
        )
        batch.add_column(sa.Column("due_day", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("due_day")
        batch.drop_column("completion")
    with op.batch_alter_table("course_block") as batch:
        batch.drop_column("jp_tm")
        batch.drop_column("weeks")
        batch.drop_column("kind")
