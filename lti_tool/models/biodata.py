"""A peserta's biodata in one course: the identity the UPT's reports and certificates use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class Biodata(Base):
    """Per user and course (LTI context), so that no course reads another's entries.

    `nomor_peserta` is the 14-digit participant number, stored as digits only and
    valid against the guideline's code tables when saved; `lptk` is a code of
    `lti_tool/reference/data/lptk.csv`."""

    __tablename__ = "biodata"
    __table_args__ = (UniqueConstraint("context_pk", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    nomor_peserta: Mapped[str] = mapped_column(String(14))
    nuptk: Mapped[str | None] = mapped_column(String(16), default=None)
    # The school or institution where the peserta works (printed on the certificate).
    instansi: Mapped[str] = mapped_column(String(255))
    lptk: Mapped[str | None] = mapped_column(String(10), default=None)
    phone: Mapped[str | None] = mapped_column(String(30), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
