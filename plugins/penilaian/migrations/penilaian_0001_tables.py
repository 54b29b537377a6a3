"""penilaian: class rubrics and assessments (plugin branch)

Revision ID: penilaian_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "penilaian_0001"
down_revision = None
branch_labels = ("penilaian",)
depends_on = "0004_course_instances"


def upgrade() -> None:
    op.create_table(
        "penilaian_rubric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("rubric_key", sa.String(length=100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_penilaian_rubric_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user.id"],
            name=op.f("fk_penilaian_rubric_updated_by_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penilaian_rubric")),
        sa.UniqueConstraint(
            "instance_id", "rubric_key", name=op.f("uq_penilaian_rubric_instance_id")
        ),
    )
    op.create_table(
        "penilaian_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("assessor_id", sa.Integer(), nullable=True),
        sa.Column("rubric", sa.JSON(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("score", sa.String(length=20), nullable=False),
        sa.Column("max_score", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_penilaian_assessment_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assessor_id"],
            ["user.id"],
            name=op.f("fk_penilaian_assessment_assessor_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_penilaian_assessment_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_penilaian_assessment_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penilaian_assessment")),
        sa.UniqueConstraint(
            "context_pk",
            "activity_id",
            "user_id",
            "kind",
            name=op.f("uq_penilaian_assessment_context_pk"),
        ),
    )


def downgrade() -> None:
    op.drop_table("penilaian_assessment")
    op.drop_table("penilaian_rubric")
