"""Course instances: a template version running in an LMS course, with its dates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, utcnow
from lti_tool.models.course import CourseModule


class CourseInstance(Base):
    """A module placed in an LMS course (context), pinned to one template version.

    Dates come from `start_date` (set by the pengampu) in `timezone`. `started_at`
    records when the class was started: from then on its roster is frozen.
    """

    __tablename__ = "course_instance"
    __table_args__ = (UniqueConstraint("context_pk", "module_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    module_key: Mapped[str] = mapped_column(String(100))
    module_id: Mapped[int] = mapped_column(ForeignKey("course_module.id", ondelete="RESTRICT"))
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    module: Mapped[CourseModule] = relationship(lazy="joined")


class DueOverride(Base):
    """A due date moved for one activity, for everyone (user_id None) or one peserta."""

    __tablename__ = "due_override"
    __table_args__ = (UniqueConstraint("instance_id", "activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), default=None
    )
    due_date: Mapped[date] = mapped_column(Date)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
