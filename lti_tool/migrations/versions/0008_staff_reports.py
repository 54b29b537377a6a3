"""staff reports

Revision ID: 0008_staff_reports
Revises: 0007_meetings
Create Date: 2026-11-24 18:56:05.766877
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_staff_reports"
down_revision = "0007_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("rombel_id", sa.Integer(), nullable=True),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("constraints", sa.Text(), nullable=True),
        sa.Column("lessons", sa.Text(), nullable=True),
        sa.Column("recommendations", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_staff_report_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_staff_report_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rombel_id"],
            ["rombel.id"],
            name=op.f("fk_staff_report_rombel_id_rombel"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_report")),
    )


def downgrade() -> None:
    op.drop_table("staff_report")
