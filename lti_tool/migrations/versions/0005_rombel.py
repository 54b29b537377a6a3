"""rombel and members

Revision ID: 0005_rombel
Revises: 0004_course_instances
Create Date: 2026-11-24 18:00:48.579718
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_rombel"
down_revision = "0004_course_instances"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rombel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_rombel_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["user.id"], name=op.f("fk_rombel_mentor_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rombel")),
        sa.UniqueConstraint("instance_id", "name", name=op.f("uq_rombel_instance_id")),
    )
    op.create_table(
        "rombel_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("rombel_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["user.id"],
            name=op.f("fk_rombel_member_added_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_rombel_member_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rombel_id"],
            ["rombel.id"],
            name=op.f("fk_rombel_member_rombel_id_rombel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_rombel_member_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rombel_member")),
        sa.UniqueConstraint("instance_id", "user_id", name=op.f("uq_rombel_member_instance_id")),
    )


def downgrade() -> None:
    op.drop_table("rombel_member")
    op.drop_table("rombel")
