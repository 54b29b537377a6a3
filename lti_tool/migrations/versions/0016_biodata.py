"""peserta biodata per course

Revision ID: 0016
Revises: 0013_roster_synced_at
Create Date: 2026-11-25 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013_roster_synced_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "biodata",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nomor_peserta", sa.String(length=14), nullable=False),
        sa.Column("nuptk", sa.String(length=16), nullable=True),
        sa.Column("instansi", sa.String(length=255), nullable=False),
        sa.Column("lptk", sa.String(length=10), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_biodata_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_biodata_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_biodata")),
        sa.UniqueConstraint("context_pk", "user_id", name=op.f("uq_biodata_context_pk")),
    )


def downgrade() -> None:
    op.drop_table("biodata")
