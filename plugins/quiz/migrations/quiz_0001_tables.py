"""quiz: question banks, questions and attempts (plugin branch)

Revision ID: quiz_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "quiz_0001"
down_revision = None
branch_labels = ("quiz",)
depends_on = "0004_course_instances"


def upgrade() -> None:
    op.create_table(
        "quiz_bank",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_bank")),
        sa.UniqueConstraint("module_key", "name", name=op.f("uq_quiz_bank_module_key")),
    )
    op.create_table(
        "quiz_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("qtype", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["quiz_bank.id"],
            name=op.f("fk_quiz_question_bank_id_quiz_bank"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_question")),
        sa.UniqueConstraint("bank_id", "category", "name", name=op.f("uq_quiz_question_bank_id")),
    )
    op.create_table(
        "quiz_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("saved_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("finished_by", sa.String(length=20), nullable=True),
        sa.Column("points", sa.String(length=20), nullable=True),
        sa.Column("max_points", sa.String(length=20), nullable=True),
        sa.Column("percent", sa.String(length=10), nullable=True),
        sa.Column("fractions", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_quiz_attempt_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["context.id"],
            name=op.f("fk_quiz_attempt_context_pk_context"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_quiz_attempt_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempt")),
        sa.UniqueConstraint(
            "context_pk",
            "activity_id",
            "user_id",
            "number",
            name=op.f("uq_quiz_attempt_context_pk"),
        ),
    )
    op.create_index(
        "ix_quiz_attempt_activity",
        "quiz_attempt",
        ["context_pk", "activity_id", "state"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_quiz_attempt_activity", table_name="quiz_attempt")
    op.drop_table("quiz_attempt")
    op.drop_table("quiz_question")
    op.drop_table("quiz_bank")
