"""The pengampu's interpretation of the pre/post analysis (Juknis V.C: "the pengampu
interprets the result"), for the whole class or one rombel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class PrePostNote(Base):
    """Plain text (shown as text, never as HTML); one per instance and rombel (rombel
    None: the whole class), which the service keeps unique."""

    __tablename__ = "prepost_note"
    __table_args__ = (Index("ix_prepost_note_instance", "instance_id", "rombel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    rombel_id: Mapped[int | None] = mapped_column(
        ForeignKey("rombel.id", ondelete="CASCADE"), default=None
    )
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
