"""scores reported by graded activities

Revision ID: 0010_activity_scores
Revises: 0009_manual_scores
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_activity_scores"
down_revision = "0009_manual_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.String(length=12), nullable=False),
        sa.Column("max_score", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_score_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_activity_score_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_activity_score_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_score")),
        sa.UniqueConstraint(
            "context_pk", "activity_id", "user_id", name=op.f("uq_activity_score_context_pk")
        ),
    )


def downgrade() -> None:
    op.drop_table("activity_score")
