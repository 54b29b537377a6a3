"""What other plugins may read of a peserta's task submission (a stable interface).

The `penilaian` plugin shows a peserta's deliverable beside their self-assessment:

    from plugins.tugas.submissions import download_url, files_of, submitted_at

    for f in files_of(db, ctx, activity_id, user_id):
        f.id, f.filename, f.size, f.uploaded_at, f.late, download_url(ctx, f.id)

The download route checks access itself (the owner, the pengampu and admin of the
course, the mentor of the peserta's rombel; anyone else gets 404), so a link can be
shown to whoever sees the page without leaking the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.tugas.models import TugasFile


@dataclass(frozen=True)
class SubmittedFile:
    id: int
    filename: str  # the peserta's own name for it (cleaned), for display and download
    size: int  # bytes
    uploaded_at: datetime  # naive UTC
    late: bool  # uploaded after the due date
    mime: str  # the type recognised from the content


def files_of(db: Session, context_pk: int, activity_id: int, user_id: int) -> list[SubmittedFile]:
    """The peserta's current files of the task in this course, oldest first; `late`
    against their due date as it stands now."""
    from lti_tool.models import Activity
    from plugins.tugas import service

    sub = service.submission_of(db, context_pk, activity_id, user_id)
    rows = service.files_in(db, sub)
    if not rows:
        return []
    activity = db.get(Activity, activity_id)
    due = service.deadline(db, service.instance_of(db, context_pk, activity), activity, user_id)
    return [
        SubmittedFile(
            id=r.id,
            filename=r.original_name,
            size=r.size,
            uploaded_at=r.uploaded_at,
            late=service.is_late(r.uploaded_at, due),
            mime=r.mime,
        )
        for r in rows
    ]


def submitted_at(db: Session, context_pk: int, activity_id: int, user_id: int) -> datetime | None:
    """When the peserta last changed their submission (uploaded, replaced or deleted a
    file), naive UTC; None while they have no file in it."""
    from plugins.tugas.service import submission_of

    sub = submission_of(db, context_pk, activity_id, user_id)
    if sub is None or sub.updated_at is None:
        return None
    has_files = db.scalar(select(TugasFile.id).where(TugasFile.submission_id == sub.id).limit(1))
    return sub.updated_at if has_files is not None else None


def download_url(context_pk: int, file_id: int) -> str:
    """The file's download link (needs a request context); the route checks access."""
    from flask import url_for

    return url_for("tugas.download", ctx=context_pk, file_id=file_id)
