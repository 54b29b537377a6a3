"""Email: which courses send mail, who turned it off, and what was sent.

`MailSent` is the sent-log that makes every mail go at most once: a row is claimed
(state "sending", committed) before the mail is handed to SMTP and marked "sent"
after. A job that runs twice, or in two workers at once, meets the unique constraint
and sends nothing; a worker that dies between the claim and the mark leaves the row
"sending", so that mail is never sent twice (it may be lost instead).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class CourseMailSettings(Base):
    """A module instance's opt-in (set by its pengampu or admin kelas); no row: off."""

    __tablename__ = "course_mail_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("course_instance.id", ondelete="CASCADE"), unique=True
    )
    reminders: Mapped[bool] = mapped_column(default=False)
    feedback_notices: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MailOptOut(Base):
    """A person who turned the tool's emails off (through the link in every mail)."""

    __tablename__ = "mail_opt_out"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MailSent(Base):
    """One mail item claimed or sent: a reminder of one activity due on `due_date`
    (`days_before` days ahead), or one feedback notice (`ref`: the notice's own key).
    state: sending (claimed, not confirmed), sent, refused (the server refused the
    address for good)."""

    __tablename__ = "mail_sent"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "instance_id", "activity_id", "kind", "due_date", "days_before"
        ),
        Index("ix_mail_sent_instance_kind_due", "instance_id", "kind", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    # reminder | feedback
    kind: Mapped[str] = mapped_column(String(20))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), default=None
    )
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    days_before: Mapped[int | None] = mapped_column(default=None)
    ref: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    state: Mapped[str] = mapped_column(String(10), default="sending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
