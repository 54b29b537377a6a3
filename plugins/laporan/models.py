"""The laporan plugin's tables: deadlines per rombel, uploaded reports, an audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class LaporanDeadline(Base):
    """The deadline of one report for one rombel (set by its mentor, or by the
    pengampu); `rombel_id` None is the class-wide deadline of peserta whose rombel has
    none. `due_at` is naive UTC; it was entered in the class time zone."""

    __tablename__ = "laporan_deadline"
    __table_args__ = (
        Index(
            "ix_laporan_deadline_lookup", "instance_id", "activity_id", "rombel_id", "report_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    rombel_id: Mapped[int | None] = mapped_column(
        ForeignKey("rombel.id", ondelete="CASCADE"), default=None
    )
    report_key: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime]
    set_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    set_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LaporanSubmission(Base):
    """One upload of one report by a peserta. `state` is `submitted` for the current
    one, `replaced` or `cancelled` for earlier ones: their file is deleted
    (`stored_name` None) but the row stays, as the audit of what was handed in when.
    `missing` is a row without a file a reviewer writes to score a report that was
    not handed in by its deadline. At most one row per report is `submitted` or
    `missing` (the current one); the review (score 0-100 as exact text, comment as
    plain text) is on it."""

    __tablename__ = "laporan_submission"
    __table_args__ = (
        Index("ix_laporan_submission_owner", "context_pk", "activity_id", "user_id", "report_key"),
        Index(
            "uq_laporan_submission_current",
            "context_pk",
            "activity_id",
            "user_id",
            "report_key",
            unique=True,
            sqlite_where=text("state IN ('submitted', 'missing')"),
            postgresql_where=text("state IN ('submitted', 'missing')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    report_key: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="submitted")
    stored_name: Mapped[str | None] = mapped_column(String(100), default=None)
    original_name: Mapped[str] = mapped_column(Text)
    mime: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    removed_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    score: Mapped[str | None] = mapped_column(String(10), default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    reviewed_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)


class LaporanAudit(Base):
    """Who did what to a report, when: uploaded, replaced, cancelled, reviewed,
    deadline set (with the values in `detail`)."""

    __tablename__ = "laporan_audit"
    __table_args__ = (Index("ix_laporan_audit_activity", "context_pk", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )  # whose report (None: a deadline)
    report_key: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
