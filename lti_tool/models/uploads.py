"""Resumable uploads in progress (tus 1.0.0): one row per file being sent in pieces.

The bytes themselves live in a file named after the row's id under UPLOAD_TMP_DIR
(lti_tool/uploads/sessions.py); the row says whose upload it is, for which activity
and slot (`target`, e.g. "tugas:12" or "laporan:7:2"), how long the file is and how
much of it has arrived. A completed upload is handed once to the plugin form that
names it (lti_tool/uploads/handoff.py) and then deleted with its file; an unfinished
one expires and `lti-tool cleanup` removes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class UploadSession(Base):
    __tablename__ = "upload_session"

    # A random token (secrets.token_urlsafe): it is the upload's URL, so not guessable.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    # plugin:activity[:slot], checked against the activity when the upload is created
    # and again when a form hands it over.
    target: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def complete(self) -> bool:
        return self.completed_at is not None and self.offset == self.length
