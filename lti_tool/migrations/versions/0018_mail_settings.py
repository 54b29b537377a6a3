"""mail settings, opt-outs and the sent-log

Revision ID: 0018
Revises: 0013_roster_synced_at
Create Date: 2026-11-25 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0013_roster_synced_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_mail_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Boolean(), nullable=False),
        sa.Column("feedback_notices", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_course_mail_settings_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user.id"],
            name=op.f("fk_course_mail_settings_updated_by_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_mail_settings")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_course_mail_settings_instance_id")),
    )
    op.create_table(
        "mail_opt_out",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_mail_opt_out_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mail_opt_out")),
    )
    op.create_table(
        "mail_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("days_before", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_mail_sent_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_mail_sent_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_mail_sent_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_sent")),
        sa.UniqueConstraint("ref", name=op.f("uq_mail_sent_ref")),
        sa.UniqueConstraint(
            "user_id",
            "instance_id",
            "activity_id",
            "kind",
            "due_date",
            "days_before",
            name=op.f("uq_mail_sent_user_id"),
        ),
    )
    op.create_index(
        "ix_mail_sent_instance_kind_due",
        "mail_sent",
        ["instance_id", "kind", "due_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_mail_sent_instance_kind_due", table_name="mail_sent")
    op.drop_table("mail_sent")
    op.drop_table("mail_opt_out")
    op.drop_table("course_mail_settings")
