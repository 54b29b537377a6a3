"""evaluasi: questionnaire responses (plugin branch)

Revision ID: evaluasi_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "evaluasi_0001"
down_revision = None
branch_labels = ("evaluasi",)
depends_on = "0003_activity_completion"


def upgrade() -> None:
    op.create_table(
        "evaluasi_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_evaluasi_response_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_evaluasi_response_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_evaluasi_response_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluasi_response")),
        sa.UniqueConstraint(
            "context_pk", "activity_id", "user_id", name=op.f("uq_evaluasi_response_context_pk")
        ),
    )


def downgrade() -> None:
    op.drop_table("evaluasi_response")
