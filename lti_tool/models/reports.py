"""Reports of mentors and pengampu (Juknis Lampiran 4 and 5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class StaffReport(Base):
    """A mentor's progress report on their rombel, or a pengampu's report on the class.

    The meeting table and the activity recap are computed from the tool's data while the
    report is a draft and frozen in `snapshot` when it is submitted."""

    __tablename__ = "staff_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))  # mentor | pengampu
    rombel_id: Mapped[int | None] = mapped_column(
        ForeignKey("rombel.id", ondelete="SET NULL"), default=None
    )
    week: Mapped[int]
    constraints: Mapped[str | None] = mapped_column(Text, default=None)
    lessons: Mapped[str | None] = mapped_column(Text, default=None)
    recommendations: Mapped[str | None] = mapped_column(Text, default=None)
    snapshot: Mapped[dict | None] = mapped_column(JSON, default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
