"""forum: threads, posts, attachments, read markers and the moderation log (plugin branch)

Revision ID: forum_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "forum_0001"
down_revision = None
branch_labels = ("forum",)
depends_on = "0006_roster_members"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "forum_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("rombel_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("first_post_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_post_at", sa.DateTime(), nullable=False),
        _fk("forum_thread", "context_pk", "context", "CASCADE"),
        _fk("forum_thread", "activity_id", "activity", "CASCADE"),
        _fk("forum_thread", "rombel_id", "rombel", "SET NULL"),
        _fk("forum_thread", "author_id", "user", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_thread")),
    )
    op.create_index(
        "ix_forum_thread_list",
        "forum_thread",
        ["context_pk", "activity_id", "rombel_id", "last_post_at"],
        unique=False,
    )
    op.create_table(
        "forum_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.Column("submit_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_by", sa.Integer(), nullable=True),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        _fk("forum_post", "thread_id", "forum_thread", "CASCADE"),
        _fk("forum_post", "author_id", "user", "CASCADE"),
        _fk("forum_post", "quote_id", "forum_post", "SET NULL"),
        _fk("forum_post", "hidden_by", "user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_post")),
        sa.UniqueConstraint("author_id", "submit_key", name=op.f("uq_forum_post_author_id")),
    )
    op.create_index("ix_forum_post_thread", "forum_post", ["thread_id", "id"], unique=False)
    op.create_table(
        "forum_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("forum_attachment", "context_pk", "context", "CASCADE"),
        _fk("forum_attachment", "activity_id", "activity", "CASCADE"),
        _fk("forum_attachment", "post_id", "forum_post", "CASCADE"),
        _fk("forum_attachment", "user_id", "user", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_attachment")),
    )
    op.create_index("ix_forum_attachment_post", "forum_attachment", ["post_id"], unique=False)
    op.create_table(
        "forum_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_post_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        _fk("forum_read", "thread_id", "forum_thread", "CASCADE"),
        _fk("forum_read", "user_id", "user", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_read")),
        sa.UniqueConstraint("thread_id", "user_id", name=op.f("uq_forum_read_thread_id")),
    )
    op.create_table(
        "forum_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        _fk("forum_audit", "post_id", "forum_post", "CASCADE"),
        _fk("forum_audit", "actor_id", "user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_audit")),
    )
    op.create_index("ix_forum_audit_post", "forum_audit", ["post_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_forum_audit_post", table_name="forum_audit")
    op.drop_table("forum_audit")
    op.drop_table("forum_read")
    op.drop_index("ix_forum_attachment_post", table_name="forum_attachment")
    op.drop_table("forum_attachment")
    op.drop_index("ix_forum_post_thread", table_name="forum_post")
    op.drop_table("forum_post")
    op.drop_index("ix_forum_thread_list", table_name="forum_thread")
    op.drop_table("forum_thread")
