"""The forum's tables: threads, posts, their attachments, read markers, moderation log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class ForumThread(Base):
    """A thread of a forum activity in a course; in rombel scope it belongs to a rombel
    (None: the rombel was removed, or class scope)."""

    __tablename__ = "forum_thread"
    __table_args__ = (
        Index("ix_forum_thread_list", "context_pk", "activity_id", "rombel_id", "last_post_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    rombel_id: Mapped[int | None] = mapped_column(
        ForeignKey("rombel.id", ondelete="SET NULL"), default=None
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    author_role: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(default=False)
    # The opening post (no foreign key: the post refers to the thread).
    first_post_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForumPost(Base):
    """A post. `source` is what its author typed, `html` its sanitised rendering.
    Deleting (by the author) and hiding (by staff) keep the row: the record shows it."""

    __tablename__ = "forum_post"
    __table_args__ = (
        UniqueConstraint("author_id", "submit_key"),
        Index("ix_forum_post_thread", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_thread.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    author_role: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    quote_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_post.id", ondelete="SET NULL"), default=None
    )
    # The form's one-time key: a form sent twice (double click, resend) makes one post.
    submit_key: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    hidden_at: Mapped[datetime | None] = mapped_column(default=None)
    hidden_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    hidden_reason: Mapped[str | None] = mapped_column(Text, default=None)


class ForumAttachment(Base):
    """A file on a post, stored under a generated name. Without a post it is pending:
    accepted with a form that was refused for another reason, kept for its resend."""

    __tablename__ = "forum_attachment"
    __table_args__ = (Index("ix_forum_attachment_post", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_post.id", ondelete="CASCADE"), default=None
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForumRead(Base):
    """How far a user has read a thread: the newest post id seen."""

    __tablename__ = "forum_read"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_thread.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    last_post_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForumAudit(Base):
    """Moderation and changes to posts: hide, unhide, delete, edit (with the text before)."""

    __tablename__ = "forum_audit"
    __table_args__ = (Index("ix_forum_audit_post", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_post.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)
