"""laporan: deadlines per rombel, uploaded progress reports, audit log (plugin branch)

Revision ID: laporan_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "laporan_0001"
down_revision = None
branch_labels = ("laporan",)
depends_on = "0005_rombel"


def upgrade() -> None:
    op.create_table(
        "laporan_deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("rombel_id", sa.Integer(), nullable=True),
        sa.Column("report_key", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_laporan_deadline_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["course_instance.id"],
            name=op.f("fk_laporan_deadline_instance_id_course_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rombel_id"],
            ["rombel.id"],
            name=op.f("fk_laporan_deadline_rombel_id_rombel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"],
            ["user.id"],
            name=op.f("fk_laporan_deadline_set_by_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laporan_deadline")),
    )
    op.create_index(
        "ix_laporan_deadline_lookup",
        "laporan_deadline",
        ["instance_id", "activity_id", "rombel_id", "report_key"],
        unique=False,
    )
    op.create_table(
        "laporan_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("report_key", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("stored_name", sa.String(length=100), nullable=True),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("mime", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.Integer(), nullable=True),
        sa.Column("score", sa.String(length=10), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_laporan_submission_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_laporan_submission_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["removed_by"],
            ["user.id"],
            name=op.f("fk_laporan_submission_removed_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["user.id"],
            name=op.f("fk_laporan_submission_reviewed_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_laporan_submission_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laporan_submission")),
    )
    op.create_index(
        "ix_laporan_submission_owner",
        "laporan_submission",
        ["context_pk", "activity_id", "user_id", "report_key"],
        unique=False,
    )
    op.create_index(
        "uq_laporan_submission_current",
        "laporan_submission",
        ["context_pk", "activity_id", "user_id", "report_key"],
        unique=True,
        sqlite_where=sa.text("state IN ('submitted', 'missing')"),
        postgresql_where=sa.text("state IN ('submitted', 'missing')"),
    )
    op.create_table(
        "laporan_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("report_key", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_laporan_audit_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by"], ["user.id"], name=op.f("fk_laporan_audit_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_laporan_audit_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_laporan_audit_user_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laporan_audit")),
    )
    op.create_index(
        "ix_laporan_audit_activity",
        "laporan_audit",
        ["context_pk", "activity_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_laporan_audit_activity", table_name="laporan_audit")
    op.drop_table("laporan_audit")
    op.drop_index("uq_laporan_submission_current", table_name="laporan_submission")
    op.drop_index("ix_laporan_submission_owner", table_name="laporan_submission")
    op.drop_table("laporan_submission")
    op.drop_index("ix_laporan_deadline_lookup", table_name="laporan_deadline")
    op.drop_table("laporan_deadline")
