"""activity completion per user and course

Revision ID: 0003_activity_completion
Revises: 0002_template_fields
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_activity_completion"
down_revision = "0002_template_fields"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("first_viewed_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_completion_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_activity_completion_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_activity_completion_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_completion")),
        sa.UniqueConstraint(
            "context_pk",
            "activity_id",
            "user_id",
            name=op.f("uq_activity_completion_context_pk"),
        ),
    )


def downgrade() -> None:
    op.drop_table("activity_completion")
