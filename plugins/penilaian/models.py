"""The plugin's tables: a class's edited rubrics and the assessments (self, moderation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class PenilaianRubric(Base):
    """A class's own copy of a template rubric, edited by the pengampu before the start."""

    __tablename__ = "penilaian_rubric"
    __table_args__ = (UniqueConstraint("instance_id", "rubric_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    rubric_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    # [{"title": str, "levels": [{"description": str, "points": "12.5"}]}]
    criteria: Mapped[list] = mapped_column(JSON, default=list)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PenilaianAssessment(Base):
    """One scoring of a peserta's deliverable: the peserta's own (`self`) or a mentor's
    or pengampu's (`moderation`). The rubric it was made with is kept with it, so the
    score can always be recomputed from the levels chosen."""

    __tablename__ = "penilaian_assessment"
    __table_args__ = (UniqueConstraint("context_pk", "activity_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    # The peserta whose deliverable is scored.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # self | moderation
    kind: Mapped[str] = mapped_column(String(20))
    assessor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    # {"key", "title", "criteria"} as used for this assessment
    rubric: Mapped[dict] = mapped_column(JSON, default=dict)
    # criterion index (as a string) -> level index
    choices: Mapped[dict] = mapped_column(JSON, default=dict)
    # Decimal strings: the score out of the activity's maximum score
    score: Mapped[str] = mapped_column(String(20))
    max_score: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
