"""Manual component scores (with their audit) and final scores from the template's rule.

Components the tool computes (PD, TS, TA, laporan) combine the scores graded activities
reported to `grading/`, as the template's `aggregate` says; a component with a score
entered or imported for it (e.g. TA from the national UKG system) takes that score
instead. A component with no score is pending while its activities are open, and so
is the final score.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from grading.formulas import PENDING, Result, Rule, component_score, final_score
from grading.report import percent, scores_in
from lti_tool.db import utcnow
from lti_tool.models import CourseInstance, DueOverride, ManualScore, ScoreAudit
from lti_tool.services import schedule


def rule_of(inst: CourseInstance) -> Rule:
    return Rule.from_template(inst.module.definition["scoring"])


def parse_score(text: str) -> Decimal | None:
    """'' -> None (no score); otherwise 0-100 with at most two decimals, or ValueError."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not value.is_finite() or value < 0 or value > 100 or value.as_tuple().exponent < -2:
        raise ValueError(text)
    return value.quantize(Decimal("0.01"))


def manual_scores(
    db: Session, inst: CourseInstance, user_ids: list[int] | None = None
) -> dict[tuple[int, str], Decimal]:
    query = select(ManualScore).where(ManualScore.instance_id == inst.id)
    if user_ids is not None:
        query = query.where(ManualScore.user_id.in_(user_ids))
    rows = db.scalars(query)
    return {(r.user_id, r.component): Decimal(r.value) for r in rows}


def set_manual(
    db: Session,
    inst: CourseInstance,
    user_id: int,
    component: str,
    value: Decimal | None,
    by: int,
) -> bool:
    """Store (or clear) a score; every change is audited. Returns whether it changed."""
    row = db.scalars(
        select(ManualScore).where(
            ManualScore.instance_id == inst.id,
            ManualScore.user_id == user_id,
            ManualScore.component == component,
        )
    ).first()
    old = Decimal(row.value) if row is not None else None
    if old == value:
        return False
    if value is None:
        db.delete(row)
    elif row is None:
        db.add(
            ManualScore(
                instance_id=inst.id,
                user_id=user_id,
                component=component,
                value=str(value),
                updated_by=by,
            )
        )
    else:
        row.value = str(value)
        row.updated_by = by
    db.add(
        ScoreAudit(
            instance_id=inst.id,
            user_id=user_id,
            component=component,
            old_value=str(old) if old is not None else None,
            new_value=str(value) if value is not None else None,
            changed_by=by,
        )
    )
    from grading.passback import final_changed

    final_changed(db, inst.context_pk, inst.module_key, user_id)
    return True


def _closed(db: Session, inst: CourseInstance, activities, now) -> bool:
    """Whether every one of the activities is past its due date for the whole class."""
    if inst.start_date is None or not activities:
        return False
    overrides = {
        o.activity_id: o.due_date
        for o in db.scalars(
            select(DueOverride).where(
                DueOverride.instance_id == inst.id, DueOverride.user_id.is_(None)
            )
        )
    }
    for a in activities:
        b = a.block
        due = schedule.due_date(inst.start_date, b.week, b.weeks, a.due_day, overrides.get(a.id))
        if now <= schedule.end_of_day_utc(due, inst.timezone):
            return False
    return True


def finals(db: Session, inst: CourseInstance, user_ids: list[int]) -> dict[int, Result]:
    """Each user's final score from manual, imported and reported activity scores."""
    rule = rule_of(inst)
    manual = manual_scores(db, inst, user_ids)
    reported = scores_in(db, inst.context_pk, user_ids)
    feeding = {
        c.key: [a for b in inst.module.blocks for a in b.activities if a.component == c.key]
        for c in rule.components
    }
    now = utcnow()
    closed = {key: _closed(db, inst, acts, now) for key, acts in feeding.items()}
    out = {}
    for uid in user_ids:
        components = {}
        for c in rule.components:
            if (uid, c.key) in manual:
                components[c.key] = manual[(uid, c.key)]
            elif c.manual:
                components[c.key] = PENDING
            else:
                values = [
                    percent(reported[(uid, a.id)])
                    for a in feeding[c.key]
                    if (uid, a.id) in reported
                ]
                components[c.key] = component_score(values, c, closed=closed[c.key], rule=rule)
        out[uid] = final_score(components, rule)
    return out


def audit(db: Session, inst: CourseInstance, limit: int = 100) -> list[ScoreAudit]:
    return list(
        db.scalars(
            select(ScoreAudit)
            .where(ScoreAudit.instance_id == inst.id)
            .order_by(ScoreAudit.changed_at.desc(), ScoreAudit.id.desc())
            .limit(limit)
        )
    )
