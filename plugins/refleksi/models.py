"""The plugin's tables, prefixed with its name: one reflection per peserta and
activity in a course, and the comment thread under it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class RefleksiEntry(Base):
    """A peserta's reflection: one cleaned text per prompt, a draft until submitted."""

    __tablename__ = "refleksi_entry"
    __table_args__ = (UniqueConstraint("context_pk", "activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # prompt key -> the typed text, cleaned by bleach (see plugins.refleksi.text)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    words: Mapped[int] = mapped_column(default=0)
    # The first submission; later changes move `updated_at` only.
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RefleksiComment(Base):
    """A comment under a reflection, by staff (mentor, pengampu) or its peserta."""

    __tablename__ = "refleksi_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("refleksi_entry.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    # The author's programme role when writing (peserta, mentor, pengampu, admin).
    author_role: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)  # cleaned by bleach, like the answers
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
