"""upload sessions (resumable uploads, tus)

Revision ID: 0019
Revises: 0013_roster_synced_at
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0013_roster_synced_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_upload_session_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_upload_session_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_session")),
    )
    with op.batch_alter_table("upload_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upload_session_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_upload_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("upload_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_upload_session_expires_at"))
    op.drop_table("upload_session")
