"""manual scores and their audit

Revision ID: 0009_manual_scores
Revises: 0008_staff_reports
Create Date: 2026-11-24 19:14:04.507770
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_manual_scores"
down_revision = "0008_staff_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manual_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=8), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_manual_score_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user.id"],
            name=op.f("fk_manual_score_updated_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_manual_score_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_score")),
        sa.UniqueConstraint(
            "instance_id", "user_id", "component", name=op.f("uq_manual_score_instance_id")
        ),
    )
    op.create_table(
        "score_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=20), nullable=False),
        sa.Column("old_value", sa.String(length=8), nullable=True),
        sa.Column("new_value", sa.String(length=8), nullable=True),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["user.id"],
            name=op.f("fk_score_audit_changed_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_score_audit_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_score_audit_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_audit")),
    )


def downgrade() -> None:
    op.drop_table("score_audit")
    op.drop_table("manual_score")
