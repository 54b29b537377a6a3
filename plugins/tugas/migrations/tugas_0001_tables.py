"""tugas: submissions, their files and the grade audit (plugin branch)

Revision ID: tugas_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tugas_0001"
down_revision = None
branch_labels = ("tugas",)
depends_on = "0004_course_instances"


def upgrade() -> None:
    op.create_table(
        "tugas_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("score", sa.String(length=12), nullable=True),
        sa.Column("max_score", sa.String(length=12), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("graded_by", sa.Integer(), nullable=True),
        sa.Column("graded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_tugas_submission_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_tugas_submission_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["graded_by"],
            ["user.id"],
            name=op.f("fk_tugas_submission_graded_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_tugas_submission_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tugas_submission")),
        sa.UniqueConstraint(
            "context_pk", "activity_id", "user_id", name=op.f("uq_tugas_submission_context_pk")
        ),
    )
    op.create_table(
        "tugas_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=100), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("mime", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["tugas_submission.id"],
            name=op.f("fk_tugas_file_submission_id_tugas_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tugas_file")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_tugas_file_stored_name")),
    )
    op.create_index("ix_tugas_file_submission", "tugas_file", ["submission_id"], unique=False)
    op.create_table(
        "tugas_grade_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("old_score", sa.String(length=12), nullable=True),
        sa.Column("new_score", sa.String(length=12), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["user.id"],
            name=op.f("fk_tugas_grade_audit_changed_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["tugas_submission.id"],
            name=op.f("fk_tugas_grade_audit_submission_id_tugas_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tugas_grade_audit")),
    )
    op.create_index(
        "ix_tugas_grade_audit_submission", "tugas_grade_audit", ["submission_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tugas_grade_audit_submission", table_name="tugas_grade_audit")
    op.drop_table("tugas_grade_audit")
    op.drop_index("ix_tugas_file_submission", table_name="tugas_file")
    op.drop_table("tugas_file")
    op.drop_table("tugas_submission")
