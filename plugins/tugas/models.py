"""The tugas plugin's tables: each peserta's submission of an activity in a course,
its files, and every grade given (the audit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class TugasSubmission(Base):
    """A peserta's submission of a task in a course: the files they uploaded (the
    submission is its files, no separate "send" step) and the staff's grade.

    `submitted_at` is the first upload; `updated_at` the last change of the files
    (upload, replacement, deletion). Lateness is not stored: a file is late when it
    came after the peserta's due date as it stands now (a moved due date counts), as
    Moodle does. The score is exact decimal text ("82.50") out of `max_score`.
    """

    __tablename__ = "tugas_submission"
    __table_args__ = (UniqueConstraint("context_pk", "activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    score: Mapped[str | None] = mapped_column(String(12), default=None)
    max_score: Mapped[str | None] = mapped_column(String(12), default=None)
    feedback: Mapped[str | None] = mapped_column(Text, default=None)
    graded_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    graded_at: Mapped[datetime | None] = mapped_column(default=None)


class TugasFile(Base):
    """One uploaded file: stored under a generated name, shown under the peserta's own
    (cleaned) name, its type recognised from its content."""

    __tablename__ = "tugas_file"
    __table_args__ = (Index("ix_tugas_file_submission", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("tugas_submission.id", ondelete="CASCADE")
    )
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    original_name: Mapped[str] = mapped_column(Text)
    mime: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TugasGradeAudit(Base):
    """Every grade or feedback given: who, when, the old and the new values."""

    __tablename__ = "tugas_grade_audit"
    __table_args__ = (Index("ix_tugas_grade_audit_submission", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("tugas_submission.id", ondelete="CASCADE")
    )
    old_score: Mapped[str | None] = mapped_column(String(12), default=None)
    new_score: Mapped[str | None] = mapped_column(String(12), default=None)
    feedback: Mapped[str | None] = mapped_column(Text, default=None)
    changed_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
