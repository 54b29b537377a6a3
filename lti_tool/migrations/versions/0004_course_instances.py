"""course instances and due overrides

Revision ID: 0004_course_instances
Revises: 0003_activity_completion
Create Date: 2026-11-24 17:57:03.949204
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_course_instances"
down_revision = "0003_activity_completion"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("module_key", sa.String(length=100), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_course_instance_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["course_module.id"],
            name=op.f("fk_course_instance_module_id_course_module"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_instance")),
        sa.UniqueConstraint("context_pk", "module_key", name=op.f("uq_course_instance_context_pk")),
    )
    op.create_table(
        "due_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_due_override_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_due_override_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["user.id"], name=op.f("fk_due_override_set_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_due_override_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_override")),
        sa.UniqueConstraint(
            "instance_id", "activity_id", "user_id", name=op.f("uq_due_override_instance_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("due_override")
    op.drop_table("course_instance")
