"""Scores that graded activities report to `grading/` (one per peserta and activity).

Plugins never talk to the LMS gradebook: they report here, and `grading/` computes the
components and final score and (issue 7) pushes to the LMS. `version` grows on every
change so a passback worker can tell a score it already sent from a newer one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class ActivityScore(Base):
    __tablename__ = "activity_score"
    __table_args__ = (UniqueConstraint("context_pk", "activity_id", "user_id"),)

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
