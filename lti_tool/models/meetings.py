"""Face-to-face meetings (tatap muka) and web conferences: attendance and minutes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class MeetingRecord(Base):
    """One held meeting: a TM of the template for one rombel, or a web conference.

    `key` is the template meeting's key (tm-1 ...) or `web-<n>`; minutes follow the
    berita acara of the Juknis (resume, material, method, lessons, obstacles)."""

    __tablename__ = "meeting_record"
    __table_args__ = (UniqueConstraint("instance_id", "key", "rombel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # tm | web
    title: Mapped[str] = mapped_column(Text)
    rombel_id: Mapped[int | None] = mapped_column(
        ForeignKey("rombel.id", ondelete="CASCADE"), default=None
    )
    held_on: Mapped[date] = mapped_column(Date)
    time: Mapped[str | None] = mapped_column(String(20), default=None)
    place: Mapped[str | None] = mapped_column(Text, default=None)
    resume: Mapped[str | None] = mapped_column(Text, default=None)
    material: Mapped[str | None] = mapped_column(Text, default=None)
    method: Mapped[str | None] = mapped_column(Text, default=None)
    lessons: Mapped[str | None] = mapped_column(Text, default=None)
    obstacles: Mapped[str | None] = mapped_column(Text, default=None)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MeetingAttendance(Base):
    """A peserta's presence at a meeting (daftar hadir)."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("record_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("meeting_record.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # hadir | izin | sakit | alpa
    status: Mapped[str] = mapped_column(String(10))
