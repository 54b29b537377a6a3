"""Files (and certificate batches) made in the background: one row per request.

A download that may be large (a class recap as CSV or XLSX, the class's certificates as
a ZIP) or a batch that may be long (issue every certificate) is not made inside the web
request: the request writes a row and enqueues a job (lti_tool/exports); the job builds
the file, stores it through the file storage (local folder or S3, never Redis or a
process's memory, so any web process can serve it) and marks the row ready. The row
says who asked, in which course and module, what exactly (kind, format, filters) and
how far it got; `active_key` is set only while it is queued or running, unique, so a
second identical request finds the first instead of starting another job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class ExportFile(Base):
    __tablename__ = "export_file"
    __table_args__ = (Index("ix_export_file_context_pk_user_id", "context_pk", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("course_instance.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # rekap (a class report), sertifikat_zip (the class's PDFs), sertifikat_terbit
    # (issue to every peserta who passes: no file)
    kind: Mapped[str] = mapped_column(String(32))
    report: Mapped[str | None] = mapped_column(String(64), default=None)  # rekap's kind
    format: Mapped[str] = mapped_column(String(8), default="")  # csv, xlsx, zip or ""
    # what was asked (filters, rombel) and how to word it (locale), as JSON values
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    filename: Mapped[str] = mapped_column(String(255), default="")
    # queued (waiting for a worker or for a retry), running, ready, failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    active_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    job_id: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    progress: Mapped[int] = mapped_column(default=0)  # rows or certificates so far
    storage_key: Mapped[str | None] = mapped_column(String(255), default=None)
    mime: Mapped[str | None] = mapped_column(String(100), default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error_code: Mapped[str | None] = mapped_column(String(32), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
