"""Reading and steering the grade outbox: its state for the status page and CLI, and
sending failed or all scores again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import GradeOutbox

STATES = ("pending", "sending", "delivered", "failed", "superseded")


@dataclass
class Status:
    counts: dict[str, int]
    last_delivered: datetime | None
    next_try: datetime | None
    failed: list[GradeOutbox]
    pending: list[GradeOutbox]


def status(db: Session, context_pk: int | None = None, limit: int = 200) -> Status:
    where = [] if context_pk is None else [GradeOutbox.context_pk == context_pk]
    counts = dict.fromkeys(STATES, 0)
    counts.update(
        dict(
            db.execute(
                select(GradeOutbox.state, func.count()).where(*where).group_by(GradeOutbox.state)
            ).all()
        )
    )
    last = db.scalar(select(func.max(GradeOutbox.delivered_at)).where(*where))
    nxt = db.scalar(
        select(func.min(GradeOutbox.next_try_at)).where(*where, GradeOutbox.state == "pending")
    )
    failed = list(
        db.scalars(
            select(GradeOutbox)
            .where(*where, GradeOutbox.state == "failed")
            .order_by(GradeOutbox.id.desc())
            .limit(limit)
        )
    )
    pending = list(
        db.scalars(
            select(GradeOutbox)
            .where(*where, GradeOutbox.state.in_(("pending", "sending")))
            .order_by(GradeOutbox.id)
            .limit(limit)
        )
    )
    return Status(counts, last, nxt, failed, pending)


def retry_failed(db: Session, context_pk: int | None = None) -> int:
    """Failed scores go back to the queue, due now (the caller commits)."""
    where = [GradeOutbox.state == "failed"]
    if context_pk is not None:
        where.append(GradeOutbox.context_pk == context_pk)
    done = db.execute(
        update(GradeOutbox).where(*where).values(state="pending", tries=0, next_try_at=utcnow())
    )
    db.info["grades_enqueued"] = True
    return done.rowcount


def resend_all(db: Session, inst) -> int:
    """Queue every known score of a class again (after the LMS lost its gradebook, or a
    column was deleted there): each activity score, then each final score."""
    from grading.passback import final_changed, score_changed
    from grading.report import scores_in

    acts = {a.id: a for b in inst.module.blocks for a in b.activities}
    users = set()
    n = 0
    for (uid, aid), row in scores_in(db, inst.context_pk).items():
        if aid in acts:
            score_changed(
                db, inst.context_pk, acts[aid], uid, Decimal(row.score), Decimal(row.max_score)
            )
            users.add(uid)
            n += 1
    for uid in users:
        final_changed(db, inst.context_pk, inst.module_key, uid, force=True)
    return n
