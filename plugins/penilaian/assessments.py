"""Stored scorings, the due date, and the score that counts (reported to grading/).

The self-assessment counts for the component unless the activity says
`moderated_counts: true` and a mentor or pengampu has moderated it: then the
moderator's score replaces it. Completion: `submitted` when the peserta saves a
self-assessment; `graded` once the score that counts is final (at once when the
self-assessment counts; at moderation when the moderator's score counts).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from grading.report import report_score
from lti_tool.db import utcnow
from lti_tool.models import Activity, CourseInstance, DueOverride
from lti_tool.services import completion, schedule
from plugins.penilaian import rubrics
from plugins.penilaian.models import PenilaianAssessment
from plugins.penilaian.settings import PenilaianSettings

SELF = "self"
MODERATION = "moderation"
SOURCE = "penilaian"


def settings_of(activity: Activity) -> PenilaianSettings:
    return PenilaianSettings.model_validate(activity.settings or {})


def closes_at(db: Session, inst: CourseInstance | None, activity: Activity, user_id: int):
    """The end of the due day for this peserta (naive UTC), None while the class has no
    start date. Overrides for everyone or for the peserta move it."""
    if inst is None or inst.start_date is None:
        return None
    overrides = {
        o.user_id: o.due_date
        for o in db.scalars(
            select(DueOverride).where(
                DueOverride.instance_id == inst.id,
                DueOverride.activity_id == activity.id,
                (DueOverride.user_id.is_(None)) | (DueOverride.user_id == user_id),
            )
        )
    }
    block = activity.block
    due = schedule.due_date(
        inst.start_date,
        block.week,
        block.weeks,
        activity.due_day,
        overrides.get(None),
        overrides.get(user_id),
    )
    return schedule.end_of_day_utc(due, inst.timezone)


def is_late(closes: datetime | None, now: datetime | None = None) -> bool:
    return closes is not None and (now or utcnow()) > closes


def get(db: Session, ctx: int, activity_id: int, user_id: int, kind: str):
    return db.scalars(
        select(PenilaianAssessment).where(
            PenilaianAssessment.context_pk == ctx,
            PenilaianAssessment.activity_id == activity_id,
            PenilaianAssessment.user_id == user_id,
            PenilaianAssessment.kind == kind,
        )
    ).first()


def all_of(db: Session, ctx: int, activity_id: int) -> dict[tuple[int, str], PenilaianAssessment]:
    rows = db.scalars(
        select(PenilaianAssessment).where(
            PenilaianAssessment.context_pk == ctx, PenilaianAssessment.activity_id == activity_id
        )
    )
    return {(r.user_id, r.kind): r for r in rows}


def rubric_of(row: PenilaianAssessment) -> rubrics.Rubric:
    return rubrics.from_json(row.rubric)


def scored(row: PenilaianAssessment, max_score: int | Decimal) -> rubrics.Scored | None:
    """The row's score recomputed from its choices and the rubric it was made with."""
    rubric = rubric_of(row)
    if not rubric.criteria or not rubrics.fits(rubric, row.choices or {}):
        return None
    return rubrics.score(rubric, row.choices, max_score)


def save(
    db: Session,
    ctx: int,
    activity: Activity,
    user_id: int,
    kind: str,
    rubric: rubrics.Rubric,
    choices: dict[str, int],
    comment: str | None,
    assessor_id: int,
) -> PenilaianAssessment:
    """Store a complete scoring (the caller checked it) with the rubric it used."""
    result = rubrics.score(rubric, choices, activity.max_score)
    row = get(db, ctx, activity.id, user_id, kind)
    if row is None:
        row = PenilaianAssessment(
            context_pk=ctx, activity_id=activity.id, user_id=user_id, kind=kind
        )
        db.add(row)
    row.assessor_id = assessor_id
    row.rubric = rubric.to_json()
    row.choices = dict(choices)
    row.score = str(result.score)
    row.max_score = str(result.max_score)
    row.comment = comment or None
    row.updated_at = utcnow()
    db.flush()
    return row


def counted(db: Session, ctx: int, activity: Activity, user_id: int):
    """(the row whose score counts, whether that score is final), or (None, False)."""
    own = get(db, ctx, activity.id, user_id, SELF)
    if own is None:
        return None, False
    s = settings_of(activity)
    if s.moderated_counts:
        moderated = get(db, ctx, activity.id, user_id, MODERATION)
        if moderated is not None:
            return moderated, True
        return own, False
    return own, True


def update_grade(db: Session, ctx: int, activity: Activity, user_id: int) -> Decimal | None:
    """Recompute the stored scorings from their choices, report the score that counts
    and return it in percent (None when the peserta has not assessed yet)."""
    top = Decimal(activity.max_score)
    for kind in (SELF, MODERATION):
        row = get(db, ctx, activity.id, user_id, kind)
        result = scored(row, top) if row is not None else None
        if result is not None:
            row.score, row.max_score = str(result.score), str(result.max_score)
    row, final = counted(db, ctx, activity, user_id)
    result = scored(row, top) if row is not None else None
    if result is None:
        return None
    report_score(
        db,
        context_pk=ctx,
        activity=activity,
        user_id=user_id,
        score=result.score,
        max_score=top,
        source=SOURCE,
    )
    if final:
        completion.record(db, ctx, activity, user_id, "graded")
    return result.percent
