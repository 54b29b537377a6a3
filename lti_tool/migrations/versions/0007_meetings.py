"""meeting records and attendance

Revision ID: 0007_meetings
Revises: 0006_roster_members
Create Date: 2026-11-24 18:51:21.364085
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_meetings"
down_revision = "0006_roster_members"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("rombel_id", sa.Integer(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("time", sa.String(length=20), nullable=True),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("resume", sa.Text(), nullable=True),
        sa.Column("material", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("lessons", sa.Text(), nullable=True),
        sa.Column("obstacles", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_meeting_record_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["user.id"],
            name=op.f("fk_meeting_record_recorded_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rombel_id"],
            ["rombel.id"],
            name=op.f("fk_meeting_record_rombel_id_rombel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_record")),
        sa.UniqueConstraint(
            "instance_id", "key", "rombel_id", name=op.f("uq_meeting_record_instance_id")
        ),
    )
    op.create_table(
        "meeting_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["meeting_record.id"],
            name=op.f("fk_meeting_attendance_record_id_meeting_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_meeting_attendance_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendance")),
        sa.UniqueConstraint("record_id", "user_id", name=op.f("uq_meeting_attendance_record_id")),
    )


def downgrade() -> None:
    op.drop_table("meeting_attendance")
    op.drop_table("meeting_record")
