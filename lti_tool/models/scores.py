"""Scores entered by staff for components the tool cannot compute, and their audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class ManualScore(Base):
    """A component score (e.g. PLPG proses, presentasi) entered by a mentor or pengampu."""

    __tablename__ = "manual_score"
    __table_args__ = (UniqueConstraint("instance_id", "user_id", "component"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    component: Mapped[str] = mapped_column(String(20))
    # Exact decimal as text ("82.50"): SQLite has no decimal type and floats would round.
    value: Mapped[str] = mapped_column(String(8))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScoreAudit(Base):
    """Every change of a manual score: who, when, old value, new value."""

    __tablename__ = "score_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    component: Mapped[str] = mapped_column(String(20))
    old_value: Mapped[str | None] = mapped_column(String(8), default=None)
    new_value: Mapped[str | None] = mapped_column(String(8), default=None)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
