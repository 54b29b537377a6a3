"""Certificates (STTPP) issued to peserta who passed a module (Juknis V.F).

A row keeps the snapshot of exactly what the printed certificate shows, taken at first
issue: a later score change never rewrites a printed certificate. Revoking keeps the
row (the public verification page then says so); a re-issue revokes the old row and
adds a new one with a new number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class Certificate(Base):
    """One issued certificate. `active` is True while it is valid and None once revoked,
    so the unique (instance, user, active) allows one valid certificate per peserta and
    any number of revoked ones (NULLs are distinct in a unique constraint)."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("instance_id", "user_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    # RESTRICT: an issued certificate is an official record; its verification must not
    # vanish with course data.
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    active: Mapped[bool | None] = mapped_column(default=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    # What the certificate shows: names, unit, activity, period, scores, signatory.
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    revoked_reason: Mapped[str | None] = mapped_column(Text, default=None)
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificate.id", ondelete="SET NULL"), default=None
    )

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
