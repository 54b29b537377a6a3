"""Course structure loaded from a course template: module -> blocks (weeks) -> activities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, utcnow


class CourseModule(Base):
    """A loaded course template (one version of it)."""

    __tablename__ = "course_module"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10), default="id")
    description: Mapped[str | None] = mapped_column(Text, default=None)
    definition: Mapped[dict] = mapped_column(JSON, default=dict)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    blocks: Mapped[list[CourseBlock]] = relationship(
        back_populates="module",
        cascade="all, delete-orphan",
        order_by="CourseBlock.position",
        lazy="selectin",
    )


class CourseBlock(Base):
    """A block of the module: Pendahuluan, Sesi 1-4, Penutup (one per week)."""

    __tablename__ = "course_block"
    __table_args__ = (UniqueConstraint("module_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_module.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="sesi")
    position: Mapped[int]
    week: Mapped[int]
    weeks: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(Text)
    jp: Mapped[int] = mapped_column(default=0)
    jp_tm: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str | None] = mapped_column(Text, default=None)

    module: Mapped[CourseModule] = relationship(back_populates="blocks")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="block",
        cascade="all, delete-orphan",
        order_by="Activity.position",
        lazy="selectin",
    )


class Activity(Base):
    """One activity of a block; `type` names the plugin that provides it."""

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("block_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("course_block.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]
    type: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text, default=None)
    graded: Mapped[bool] = mapped_column(default=False)
    component: Mapped[str | None] = mapped_column(String(20), default=None)
    max_score: Mapped[int] = mapped_column(default=100)
    # viewed | submitted | passed | graded
    completion: Mapped[str] = mapped_column(String(20), default="viewed")
    # Days after the block's first day when it is due (None: the block's last day).
    due_day: Mapped[int | None] = mapped_column(default=None)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)

    block: Mapped[CourseBlock] = relationship(back_populates="activities")
