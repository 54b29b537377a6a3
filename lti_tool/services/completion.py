"""Record and read activity completion.

Plugins report what happened (viewed, submitted, passed, graded); an activity is
complete when the state its completion rule names (or a later one) is reached.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import Activity, ActivityCompletion

ORDER = ("viewed", "submitted", "passed", "graded")


def reaches(state: str | None, rule: str) -> bool:
    """Whether `state` satisfies completion `rule` (graded implies submitted, etc.)."""
    if state is None:
        return False
    if rule == "passed":
        return state == "passed"
    return ORDER.index(state) >= ORDER.index(rule)


def record(db: Session, context_pk: int, activity: Activity, user_id: int, event: str) -> bool:
    """Record `event` for the user; return True when this made the activity complete.
    The caller commits."""
    if event not in ORDER:
        raise ValueError(f"unknown completion event {event!r}")
    row = db.scalars(
        select(ActivityCompletion).where(
            ActivityCompletion.context_pk == context_pk,
            ActivityCompletion.activity_id == activity.id,
            ActivityCompletion.user_id == user_id,
        )
    ).first()
    now = utcnow()
    if row is None:
        row = ActivityCompletion(
            context_pk=context_pk, activity_id=activity.id, user_id=user_id, state=event
        )
        db.add(row)
        was_complete = False
    else:
        was_complete = row.completed_at is not None
        if ORDER.index(event) > ORDER.index(row.state) or event == "passed":
            row.state = event
    if event == "viewed" and row.first_viewed_at is None:
        row.first_viewed_at = now
    if not was_complete and reaches(row.state, activity.completion):
        row.completed_at = now
        return True
    return False


def states(db: Session, context_pk: int, user_id: int) -> dict[int, ActivityCompletion]:
    """The user's completion rows in a course, by activity id."""
    rows = db.scalars(
        select(ActivityCompletion).where(
            ActivityCompletion.context_pk == context_pk, ActivityCompletion.user_id == user_id
        )
    )
    return {r.activity_id: r for r in rows}
