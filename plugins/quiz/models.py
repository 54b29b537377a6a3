"""The quiz plugin's tables: question banks per module, their questions, attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class QuizBank(Base):
    """A named bank of a course module (by its key, so it outlives template versions)."""

    __tablename__ = "quiz_bank"
    __table_args__ = (UniqueConstraint("module_key", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuizQuestion(Base):
    """A question (plugins.quiz.questions.Question as JSON). Re-importing a question of
    the same category and name updates it; one left out of a replacing import is
    retired, not deleted, so attempts and item analysis keep pointing at it."""

    __tablename__ = "quiz_question"
    __table_args__ = (UniqueConstraint("bank_id", "category", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("quiz_bank.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(255), default="")
    name: Mapped[str] = mapped_column(String(255))
    qtype: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuizAttempt(Base):
    """One attempt of a peserta at a quiz in a course. `slots` holds the drawn questions
    as snapshots; `answers` maps a slot number to the stored answer and is saved on
    every change, so a lost connection loses nothing."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (
        UniqueConstraint("context_pk", "activity_id", "user_id", "number"),
        Index("ix_quiz_attempt_activity", "context_pk", "activity_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default="inprogress")  # or "finished"
    slots: Mapped[list] = mapped_column(JSON)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When answers stop being accepted (time limit or close date); None: no limit.
    deadline: Mapped[datetime | None] = mapped_column(default=None)
    saved_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # How it ended: "submitted", "timeout" (time limit or close date reached).
    finished_by: Mapped[str | None] = mapped_column(String(20), default=None)
    # Exact decimals as text: points, points possible, percent.
    points: Mapped[str | None] = mapped_column(String(20), default=None)
    max_points: Mapped[str | None] = mapped_column(String(20), default=None)
    percent: Mapped[str | None] = mapped_column(String(10), default=None)
    fractions: Mapped[list | None] = mapped_column(JSON, default=None)
