"""pre/post analysis: the pengampu's interpretation

Revision ID: 0014
Revises: 0013_roster_synced_at
Create Date: 2026-11-25 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013_roster_synced_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prepost_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("rombel_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_prepost_note_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rombel_id"],
            ["rombel.id"],
            name=op.f("fk_prepost_note_rombel_id_rombel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user.id"],
            name=op.f("fk_prepost_note_updated_by_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prepost_note")),
    )
    op.create_index(
        "ix_prepost_note_instance", "prepost_note", ["instance_id", "rombel_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_prepost_note_instance", table_name="prepost_note")
    op.drop_table("prepost_note")
