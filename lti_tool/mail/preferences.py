"""Who may get mail: a course's opt-in (per kind) and a person's opt-out."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import CourseMailSettings, MailOptOut, User

REMINDERS = "reminders"
FEEDBACK = "feedback_notices"


def course_settings(db: Session, instance_id: int) -> CourseMailSettings | None:
    return db.scalars(
        select(CourseMailSettings).where(CourseMailSettings.instance_id == instance_id)
    ).first()


def course_sends(db: Session, instance_id: int, kind: str) -> bool:
    """Whether the course turned `kind` (REMINDERS or FEEDBACK) on; off without a row."""
    row = course_settings(db, instance_id)
    return bool(row is not None and getattr(row, kind))


def save_course_settings(
    db: Session, instance_id: int, *, reminders: bool, feedback_notices: bool, by: int
) -> bool:
    """Store the course's choice; returns whether it changed. The caller commits."""
    row = course_settings(db, instance_id)
    if row is None:
        if not reminders and not feedback_notices:
            return False
        row = CourseMailSettings(instance_id=instance_id)
        db.add(row)
    elif (row.reminders, row.feedback_notices) == (reminders, feedback_notices):
        return False
    row.reminders, row.feedback_notices, row.updated_by = reminders, feedback_notices, by
    return True


def opted_out(db: Session, user_ids: Iterable[int]) -> set[int]:
    ids = list(set(user_ids))
    if not ids:
        return set()
    return set(db.scalars(select(MailOptOut.user_id).where(MailOptOut.user_id.in_(ids))))


def set_opted_out(db: Session, user_id: int, off: bool) -> None:
    """Turn the person's emails off (`off`) or on again. The caller commits."""
    row = db.get(MailOptOut, user_id)
    if off and row is None:
        db.add(MailOptOut(user_id=user_id, at=utcnow()))
    elif not off and row is not None:
        db.delete(row)


def reachable(db: Session, user_ids: Iterable[int]) -> dict[int, User]:
    """The users among `user_ids` who can be mailed: an address known, not suspended,
    not opted out."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    users = db.scalars(
        select(User).where(
            User.id.in_(ids), User.email.is_not(None), User.email != "", User.suspended_at.is_(None)
        )
    )
    out = {u.id: u for u in users if "@" in (u.email or "")}
    for uid in opted_out(db, out):
        out.pop(uid)
    return out
