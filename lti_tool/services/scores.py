"""Manual component scores (with their audit) and final scores from the template's rule.

Components the tool computes from graded activities (PD, TS, TA, laporan) come from the
activity plugins as they arrive; until then they are pending, and so is the final score.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from grading.formulas import PENDING, Result, Rule, final_score
from lti_tool.models import CourseInstance, ManualScore, ScoreAudit


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


def manual_scores(db: Session, inst: CourseInstance) -> dict[tuple[int, str], Decimal]:
    rows = db.scalars(select(ManualScore).where(ManualScore.instance_id == inst.id))
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
    return True


def finals(db: Session, inst: CourseInstance, user_ids: list[int]) -> dict[int, Result]:
    rule = rule_of(inst)
    manual = manual_scores(db, inst)
    out = {}
    for uid in user_ids:
        components = {}
        for c in rule.components:
            if c.manual:
                components[c.key] = manual.get((uid, c.key), PENDING)
            else:
                components[c.key] = PENDING  # from graded activities, as their plugins arrive
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
