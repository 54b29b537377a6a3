"""Scores that graded activities report to `grading/` (one per peserta and activity).

Plugins never talk to the LMS gradebook: they report here, and `grading/` computes the
components and final score and (issue 7) pushes to the LMS. `version` grows on every
change so a passback worker can tell a score it already sent from a newer one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class ActivityScore(Base):
    __tablename__ = "activity_score"
    __table_args__ = (
        UniqueConstraint("context_pk", "activity_id", "user_id"),
        # A peserta's scores side by side, covering score and points possible: the
        # grade recap reads them per peserta (migration 0021).
        Index(
            "ix_activity_score_by_user",
            "context_pk",
            "user_id",
            "activity_id",
            "score",
            "max_score",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # Exact decimals as text (SQLite has no decimal type): points given, points possible.
    score: Mapped[str] = mapped_column(String(12))
    max_score: Mapped[str] = mapped_column(String(12))
    # Who produced it: the plugin name, or "manual" / "import".
    source: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LineItem(Base):
    """A gradebook column the tool found or created in the LMS (AGS), by resourceId."""

    __tablename__ = "ags_lineitem"
    __table_args__ = (UniqueConstraint("context_pk", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    resource_id: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    score_max: Mapped[str] = mapped_column(String(12))
    tag: Mapped[str | None] = mapped_column(String(50), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GradeOutbox(Base):
    """A score on its way to the LMS gradebook, written in the same transaction as the
    score itself so that none is lost; a worker delivers it (see grading/delivery.py).

    A newer score for the same column and peserta supersedes an undelivered older one;
    `timestamp` (the AGS score timestamp) grows strictly per column and peserta.
    """

    __tablename__ = "grade_outbox"
    __table_args__ = (
        Index("ix_grade_outbox_due", "state", "next_try_at"),
        Index("ix_grade_outbox_column", "context_pk", "resource_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # The column: "<module>/<block>/<activity>" for an activity, "<module>/<NA|SP>" for
    # the final score; with its label, maximum and tag for creating it.
    resource_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(Text)
    score_max: Mapped[str] = mapped_column(String(12))
    tag: Mapped[str | None] = mapped_column(String(50), default=None)
    score_given: Mapped[str | None] = mapped_column(String(12), default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    activity_progress: Mapped[str] = mapped_column(String(20))
    grading_progress: Mapped[str] = mapped_column(String(20))
    timestamp: Mapped[datetime]
    # pending -> sending -> delivered | failed; or superseded by a newer score.
    state: Mapped[str] = mapped_column(String(12), default="pending")
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Which delivery run took it (rows are claimed in batches).
    claim: Mapped[str | None] = mapped_column(String(32), default=None)
    last_status: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
