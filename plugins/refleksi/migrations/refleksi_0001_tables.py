"""refleksi: reflections and their comments (plugin branch)

Revision ID: refleksi_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "refleksi_0001"
down_revision = None
branch_labels = ("refleksi",)
depends_on = "0003_activity_completion"


def upgrade() -> None:
    op.create_table(
        "refleksi_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_refleksi_entry_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_refleksi_entry_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_refleksi_entry_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refleksi_entry")),
        sa.UniqueConstraint(
            "context_pk", "activity_id", "user_id", name=op.f("uq_refleksi_entry_context_pk")
        ),
    )
    op.create_table(
        "refleksi_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_refleksi_comment_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["refleksi_entry.id"],
            name=op.f("fk_refleksi_comment_entry_id_refleksi_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refleksi_comment")),
    )
    with op.batch_alter_table("refleksi_comment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refleksi_comment_entry_id"), ["entry_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("refleksi_comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refleksi_comment_entry_id"))
    op.drop_table("refleksi_comment")
    op.drop_table("refleksi_entry")
