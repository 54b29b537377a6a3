"""exports made in the background (report files, certificate batches)

Revision ID: 0020_export_file
Revises: 0019
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_export_file"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("report", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active_key", sa.String(length=64), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=True),
        sa.Column("mime", sa.String(length=100), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_export_file_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_export_file_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_export_file_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_file")),
        sa.UniqueConstraint("active_key", name=op.f("uq_export_file_active_key")),
    )
    with op.batch_alter_table("export_file", schema=None) as batch_op:
        batch_op.create_index(
            "ix_export_file_context_pk_user_id", ["context_pk", "user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_export_file_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("export_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_file_created_at"))
        batch_op.drop_index("ix_export_file_context_pk_user_id")
    op.drop_table("export_file")
