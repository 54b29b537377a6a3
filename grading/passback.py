"""What goes to the LMS gradebook: scores become outbox rows in the score's transaction.

Every graded activity has a column (its deep-linking line item, or one the tool creates
with the same resourceId), and so has the final score (NA or SP). Only peserta get
scores (Moodle refuses them for staff), and only courses whose LMS offers AGS. A
final value is sent as FullyGraded; a score still waiting for the mentor as
Submitted/PendingManual, without a value, because Moodle clears a grade it gets with
any other grading progress.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import Activity, Context, CourseInstance, GradeOutbox, Membership

FULLY_GRADED = "FullyGraded"
PENDING_MANUAL = "PendingManual"
TICK = timedelta(microseconds=1)


def activity_resource_id(activity: Activity) -> str:
    block = activity.block
    return f"a:{block.module.key}/{block.key}/{activity.key}"


def final_resource_id(module_key: str) -> str:
    return f"f:{module_key}"


def offers_ags(db: Session, context_pk: int) -> bool:
    context = db.get(Context, context_pk)
    ags = (context.services or {}).get("ags") if context is not None else None
    return bool(ags and (ags.get("lineitems") or ags.get("lineitem")))


def is_learner(db: Session, context_pk: int, user_id: int) -> bool:
    role = db.scalar(
        select(Membership.role).where(
            Membership.context_pk == context_pk, Membership.user_id == user_id
        )
    )
    return role == "peserta"


def enqueue(
    db: Session,
    *,
    context_pk: int,
    user_id: int,
    resource_id: str,
    label: str,
    score_max: Decimal,
    tag: str | None,
    score_given: Decimal | None,
    activity_progress: str = "Completed",
    grading_progress: str = FULLY_GRADED,
    comment: str | None = None,
    now: datetime | None = None,
) -> GradeOutbox:
    """Queue a score (the caller commits, with the score). Undelivered older scores of
    the same column and peserta are superseded; the timestamp is later than theirs."""
    now = now or utcnow()
    column = (
        GradeOutbox.context_pk == context_pk,
        GradeOutbox.resource_id == resource_id,
        GradeOutbox.user_id == user_id,
    )
    last = db.scalar(select(GradeOutbox.timestamp).where(*column).order_by(GradeOutbox.id.desc()))
    stamp = now if last is None or now > last else last + TICK
    db.execute(
        update(GradeOutbox)
        .where(*column, GradeOutbox.state.in_(("pending", "failed")))
        .values(state="superseded")
    )
    row = GradeOutbox(
        context_pk=context_pk,
        user_id=user_id,
        resource_id=resource_id,
        label=label,
        score_max=str(score_max),
        tag=tag,
        score_given=None if score_given is None else str(score_given),
        comment=comment,
        activity_progress=activity_progress,
        grading_progress=grading_progress,
        timestamp=stamp,
        state="pending",
        next_try_at=now,
    )
    db.add(row)
    db.info["grades_enqueued"] = True  # wakes this process's worker after the commit
    return row


def _wanted(db: Session, context_pk: int, user_id: int) -> bool:
    """Scores go only to a peserta, and only where the LMS offers AGS."""
    return offers_ags(db, context_pk) and is_learner(db, context_pk, user_id)


def _column(activity: Activity) -> dict:
    """The enqueue arguments naming an activity's gradebook column."""
    block = activity.block
    return {
        "resource_id": activity_resource_id(activity),
        "label": f"{block.title}: {activity.title}",
        "tag": activity.component or activity.type,
    }


def score_changed(
    db: Session,
    context_pk: int,
    activity: Activity,
    user_id: int,
    score: Decimal,
    max_score: Decimal,
    comment: str | None = None,
) -> None:
    """Queue the activity's column and, if it changed, the final score's."""
    if not _wanted(db, context_pk, user_id):
        return
    enqueue(
        db,
        context_pk=context_pk,
        user_id=user_id,
        **_column(activity),
        score_max=max_score,
        score_given=score,
        comment=comment,
    )
    if activity.component:  # only scores that feed a component move the final score
        final_changed(db, context_pk, activity.block.module.key, user_id)


def waiting_for_grader(db: Session, context_pk: int, activity: Activity, user_id: int) -> None:
    """A submission the mentor or pengampu still has to grade: Submitted/PendingManual,
    no value (so the LMS shows it as waiting, and clears no grade wrongly)."""
    if not _wanted(db, context_pk, user_id):
        return
    enqueue(
        db,
        context_pk=context_pk,
        user_id=user_id,
        **_column(activity),
        score_max=Decimal(activity.max_score),
        score_given=None,
        activity_progress="Submitted",
        grading_progress=PENDING_MANUAL,
    )


def final_changed(
    db: Session, context_pk: int, module_key: str, user_id: int, *, force: bool = False
) -> None:
    """Queue the final score (NA or SP) when it is known and differs from the last sent."""
    from lti_tool.services.scores import finals, rule_of

    if not _wanted(db, context_pk, user_id):
        return
    inst = db.scalars(
        select(CourseInstance).where(
            CourseInstance.context_pk == context_pk, CourseInstance.module_key == module_key
        )
    ).first()
    if inst is None:
        return
    db.flush()
    result = finals(db, inst, [user_id])[user_id]
    if not isinstance(result.value, Decimal):
        return
    rid = final_resource_id(module_key)
    last = db.scalars(
        select(GradeOutbox)
        .where(
            GradeOutbox.context_pk == context_pk,
            GradeOutbox.resource_id == rid,
            GradeOutbox.user_id == user_id,
            GradeOutbox.state != "superseded",
        )
        .order_by(GradeOutbox.id.desc())
    ).first()
    if not force and last is not None and last.score_given == str(result.value):
        return
    rule = rule_of(inst)
    comment = " · ".join(
        x for x in (result.predikat, {True: "Lulus", False: "Belum lulus"}.get(result.passed)) if x
    )
    enqueue(
        db,
        context_pk=context_pk,
        user_id=user_id,
        resource_id=rid,
        label=f"{rule.label} ({rule.name})",
        score_max=Decimal(100),
        tag=rule.name,
        score_given=result.value,
        comment=comment or None,
    )
