"""materi: files uploaded by the pengampu (plugin branch)

Revision ID: materi_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "materi_0001"
down_revision = None
branch_labels = ("materi",)
depends_on = "0004_course_instances"


def upgrade() -> None:
    op.create_table(
        "materi_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("stored_name", sa.String(length=100), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("mime", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_materi_upload_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_materi_upload_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["user.id"],
            name=op.f("fk_materi_upload_uploaded_by_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materi_upload")),
    )


def downgrade() -> None:
    op.drop_table("materi_upload")
