"""Where graded activities report their scores (plugins never call the LMS themselves).

A plugin calls `report_score` in its own transaction; the row it writes is what the
final-score computation reads and what gradebook passback sends. Scores are Decimal
points out of the activity's maximum; a changed score gets a new `version`.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Activity, ActivityScore


def report_score(
    db: Session,
    *,
    context_pk: int,
    activity: Activity,
    user_id: int,
    score: Decimal,
    max_score: Decimal,
    source: str,
    comment: str | None = None,
) -> ActivityScore:
    """Store the user's score for the activity and, when it changed, queue it (and the
    final score) for the LMS gradebook in the same transaction (the caller commits)."""
    from grading import passback

    if not isinstance(score, Decimal) or not isinstance(max_score, Decimal):
        raise TypeError("scores are Decimal")
    if max_score <= 0 or score < 0 or score > max_score:
        raise ValueError(f"score {score} is not within 0..{max_score}")
    row = db.scalars(
        select(ActivityScore).where(
            ActivityScore.context_pk == context_pk,
            ActivityScore.activity_id == activity.id,
            ActivityScore.user_id == user_id,
        )
    ).first()
    text, top = str(score), str(max_score)
    if row is None:
        row = ActivityScore(
            context_pk=context_pk,
            activity_id=activity.id,
            user_id=user_id,
            score=text,
            max_score=top,
            source=source,
            version=1,
        )
        db.add(row)
    elif (row.score, row.max_score) != (text, top):
        row.score, row.max_score, row.source = text, top, source
        row.version += 1
    else:
        return row
    passback.score_changed(db, context_pk, activity, user_id, score, max_score, comment)
    return row


def percent(row: ActivityScore) -> Decimal:
    """The score on the 0-100 scale the formulas use (not rounded)."""
    return Decimal(row.score) * 100 / Decimal(row.max_score)


def scores_in(db: Session, context_pk: int, user_ids: list[int] | None = None):
    """{(user_id, activity_id): ActivityScore} for a course."""
    query = select(ActivityScore).where(ActivityScore.context_pk == context_pk)
    if user_ids is not None:
        query = query.where(ActivityScore.user_id.in_(user_ids))
    return {(r.user_id, r.activity_id): r for r in db.scalars(query)}
