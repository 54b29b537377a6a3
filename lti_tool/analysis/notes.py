"""The pengampu's interpretation text of the pre/post analysis, per class or rombel.

Plain text only: stored as typed (NUL characters removed, line ends normalised) and
always shown escaped, so no HTML can get in. An empty text removes the note.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import CourseInstance, PrePostNote

MAX_NOTE = 5000


class NoteTooLongError(ValueError):
    """The text is longer than MAX_NOTE characters (nothing was stored)."""


def clean(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def notes(
    db: Session, inst: CourseInstance, rombel_ids: Collection[int] | None = None
) -> dict[int | None, PrePostNote]:
    """rombel id (None: the whole class) -> note; given `rombel_ids`, the class note and
    those rombel's notes only."""
    rows = db.scalars(
        select(PrePostNote).where(PrePostNote.instance_id == inst.id).order_by(PrePostNote.id)
    )
    wanted = None if rombel_ids is None else set(rombel_ids)
    return {
        r.rombel_id: r
        for r in rows
        if wanted is None or r.rombel_id is None or r.rombel_id in wanted
    }


def save(
    db: Session, inst: CourseInstance, rombel_id: int | None, text: str, by: int
) -> PrePostNote | None:
    """Store the note (the caller checked the rombel belongs to the instance and
    commits); NoteTooLongError past MAX_NOTE. Returns the note, or None when emptied."""
    text = clean(text)
    if len(text) > MAX_NOTE:
        raise NoteTooLongError(len(text))
    existing = notes(db, inst).get(rombel_id)
    if not text:
        if existing is not None:
            db.delete(existing)
        return None
    if existing is None:
        existing = PrePostNote(instance_id=inst.id, rombel_id=rombel_id, text=text, updated_by=by)
        db.add(existing)
    elif existing.text != text:
        existing.text = text
        existing.updated_by = by
        existing.updated_at = utcnow()
    return existing
