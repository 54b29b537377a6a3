"""Users, courses (LTI contexts), resource links, memberships and the launch log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class User(Base):
    """A person as one platform knows them: `sub` is unique per issuer."""

    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("issuer", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    given_name: Mapped[str | None] = mapped_column(String(255), default=None)
    family_name: Mapped[str | None] = mapped_column(String(255), default=None)
    email: Mapped[str | None] = mapped_column(String(255), default=None)
    # The LMS's ID number for the person (LTI `lis.person_sourcedid`, NRPS
    # `lis_person_sourcedid`): the nomor peserta when the LMS keeps it there.
    person_sourcedid: Mapped[str | None] = mapped_column(String(255), default=None)
    locale: Mapped[str | None] = mapped_column(String(20), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(default=None)
    # Suspended by the tool's administrator (`lti-tool users suspend`): launches are
    # refused and open sessions end, whatever the LMS says.
    suspended_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    suspended_reason: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.given_name, self.family_name) if p)
        return self.name or full or self.email or self.sub


class Context(Base):
    """An LMS course (LTI context) as seen through one platform."""

    __tablename__ = "context"
    __table_args__ = (UniqueConstraint("issuer", "deployment_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept when a registration is removed: course data is never deleted with it.
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("platform.id", ondelete="SET NULL"), default=None
    )
    issuer: Mapped[str] = mapped_column(String(500))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(255), default=None)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    # The AGS / NRPS endpoints of the latest launch (used by grading and rosters).
    services: Mapped[dict] = mapped_column(JSON, default=dict)
    # When the roster was last read from the LMS (NRPS), to refresh it now and then.
    roster_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResourceLink(Base):
    """A placement of the tool in a course; `target` says what it opens."""

    __tablename__ = "resource_link"
    __table_args__ = (UniqueConstraint("context_pk", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text, default=None)
    target: Mapped[str | None] = mapped_column(Text, default=None)
    lineitem_url: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user's roles in a course, and the programme role derived from them."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "context_pk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    lti_roles: Mapped[list] = mapped_column(JSON, default=list)
    role: Mapped[str] = mapped_column(String(20))
    # None: on the LMS roster (NRPS) but has never opened the tool.
    first_launch_at: Mapped[datetime | None] = mapped_column(default=None)
    last_launch_at: Mapped[datetime | None] = mapped_column(default=None)


class ActivityLog(Base):
    """Who did what, when: the login records the programme's reports need."""

    __tablename__ = "activity_log"
    __table_args__ = (Index("ix_activity_log_context_at", "context_pk", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    context_pk: Mapped[int | None] = mapped_column(ForeignKey("context.id", ondelete="SET NULL"))
    resource_link_pk: Mapped[int | None] = mapped_column(
        ForeignKey("resource_link.id", ondelete="SET NULL")
    )
    role: Mapped[str | None] = mapped_column(String(20), default=None)
    event: Mapped[str] = mapped_column(String(50))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
